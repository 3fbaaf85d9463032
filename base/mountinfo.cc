#include "base/mountinfo.h"

#include <algorithm>
#include <sstream>

namespace base {

namespace {

std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
        s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) {
    out.push_back(cur);
  }
  return out;
}

}  // namespace

bool MountInfo::read_only() const { return std::find(options.begin(), options.end(), "ro") != options.end(); }

std::vector<MountInfo> parse_mountinfo(const std::string& text) {
  std::vector<MountInfo> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream f(line);
    std::vector<std::string> w;
    std::string word;
    while (f >> word) {
      w.push_back(word);
    }
    auto dash = std::find(w.begin(), w.end(), "-");
    if (w.size() < 10 || dash == w.end() || dash - w.begin() < 6 || w.end() - dash < 3) {
      continue;
    }
    MountInfo m;
    m.dev = w[2];
    m.root = unescape(w[3]);
    m.mount_point = unescape(w[4]);
    m.options = split(w[5], ',');
    m.fstype = *(dash + 1);
    m.source = unescape(*(dash + 2));
    if (dash + 3 != w.end()) {
      m.super_options = split(*(dash + 3), ',');
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace base
