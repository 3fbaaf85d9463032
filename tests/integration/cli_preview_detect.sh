#!/usr/bin/env bash
# `cove preview detect` on sample workspaces: each framework with its command and port (human
# and JSON), exit 1 for an empty workspace, 2 for a missing directory, a symlink leading out of
# the workspace not followed, and nothing in the workspace executed (a package.json script and a
# manage.py that would leave a marker file if anything ran them). No root needed.
source "$(dirname "$0")/cli_lib.sh"
cli_setup

W=$TEST_DIR/ws
MARK=$TEST_DIR/executed
mk() {  # mk NAME FILE CONTENT [FILE CONTENT]...: a fresh sample workspace $W/NAME
  local d=$W/$1
  shift
  mkdir -p "$d"
  while [[ $# -gt 0 ]]; do
    mkdir -p "$(dirname "$d/$1")"
    printf '%s\n' "$2" >"$d/$1"
    shift 2
  done
}
# expect NAME TYPE PORT COMMAND
expect() {
  capture "detect-$1" 10 "$COVE_CLI" preview detect "$W/$1" --json
  assert_rc 0 "$1: exit status"
  assert_eq "$1: type" "$2" "$(jq -r .type "$OUT")"
  assert_eq "$1: port" "$3" "$(jq -r .port "$OUT")"
  assert_eq "$1: command" "$4" "$(jq -r .command "$OUT")"
}

mk vite-react package.json "{\"scripts\": {\"dev\": \"touch $MARK; vite\"}, \"devDependencies\": {\"vite\": \"5\", \"@vitejs/plugin-react\": \"4\"}, \"dependencies\": {\"react\": \"18\"}}"
expect vite-react vite-react 5173 "npm run dev"
mk vite-vue package.json '{"devDependencies": {"vite": "5", "vue": "3"}}' vite.config.ts 'export default {}'
expect vite-vue vite-vue 5173 "npx vite"
mk vite-svelte package.json '{"scripts": {"dev": "vite --port 5200"}, "devDependencies": {"vite": "5", "svelte": "4"}}'
expect vite-svelte vite-svelte 5200 "npm run dev"
mk next package.json '{"scripts": {"dev": "next dev"}, "dependencies": {"next": "14", "react": "18"}}'
expect next nextjs 3000 "npm run dev"
mk node package.json '{"scripts": {"start": "node server.js --port 4000"}}'
expect node node 4000 "npm start"
mk django manage.py "import os; open('$MARK', 'w'); from django.core.management import execute_from_command_line"
expect django django 8000 "python3 manage.py runserver 0.0.0.0:8000"
mk flask requirements.txt 'flask>=3' app.py 'from flask import Flask
app = Flask(__name__)'
expect flask flask 5000 "flask --app app run --host 0.0.0.0 --port 5000 --debug"
mk fastapi pyproject.toml '[project]
dependencies = ["fastapi", "uvicorn[standard]"]' main.py 'from fastapi import FastAPI
app = FastAPI()'
expect fastapi fastapi 8000 "uvicorn main:app --host 0.0.0.0 --port 8000 --reload"
mk static index.html '<!doctype html>'
expect static static 8080 "python3 -m http.server 8080"

# Ambiguous: every kind that matches is listed, the first in the table wins.
mk both manage.py 'from django.core.management import x' package.json '{"devDependencies": {"vite": "5", "react": "18"}}'
expect both vite-react 5173 "npx vite"
assert_eq "both: ambiguous" true "$(jq -r .ambiguous "$OUT")"
assert_eq "both: matches" "vite-react django" "$(jq -r '[.matches[].type] | join(" ")' "$OUT")"

# Human output.
capture human 10 "$COVE_CLI" preview detect "$W/next"
assert_rc 0 "human output"
assert_contains "human output names the type, command and port" "nextjs  npm run dev  port 3000"

# Nothing detected: exit 1; no directory: exit 2.
mkdir -p "$W/empty"
capture empty 10 "$COVE_CLI" preview detect "$W/empty" --json
assert_rc 1 "empty workspace"
assert_eq "empty: detected" false "$(jq -r .detected "$OUT")"
capture missing 10 "$COVE_CLI" preview detect "$W/nope"
assert_rc 2 "missing directory"

# A symlink out of the workspace is not followed (the outside tree is a Next.js app).
mkdir -p "$W/escape"
ln -s "$W/next/package.json" "$W/escape/package.json"
capture escape 10 "$COVE_CLI" preview detect "$W/escape" --json
assert_rc 1 "symlink out of the workspace"
assert_contains "the refusal is a warning" "leading out of the directory" "$ERR"

[[ ! -e $MARK ]] || fail "something from a workspace was executed"
say "ok   nothing from the workspaces was executed"
pass
