# plot.gp: the plot of fs_bench.sh --write-doc. One group of bars per measurement, one bar per
# filesystem, height = speed relative to native in the same run (native = 1, higher is better).
# Called as: gnuplot -e "datafile='...'; outfile='...'; subtitle='...'" plot.gp
# The data file has a header row of quoted filesystem names and one row per measurement; "-" is a
# measurement that failed (no bar).
set terminal pngcairo size 1100,520 font "sans,10"
set output outfile
set title "Speed relative to native (1 = native; higher is better)\n{/*0.85 ".subtitle."}"
set datafile missing "-"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top right horizontal
set yrange [0:*]
set ytics 0.2
set grid ytics
set xtics nomirror
set ylabel "this / native"
# The target lines: 0.9 (reads), 0.8 (write).
set arrow from graph 0, first 0.9 to graph 1, first 0.9 nohead dashtype 2 lc rgb "#555555"
set arrow from graph 0, first 1 to graph 1, first 1 nohead lc rgb "#000000"
columns = system("head -1 '".datafile."' | wc -w")
plot for [i=2:columns] datafile using i:xtic(1) title columnheader(i)
