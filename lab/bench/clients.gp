# SPDX-License-Identifier: ISC
# lab/bench/clients.gp - one picture of lab/bench/clients: what clients see around one kind of
# event at PoP 1, anycast-agent and ExaBGP's healthcheck side by side. Variables (gnuplot -e):
# dir (where the .dat and .gpvars files are), png (the picture to write), kind (crash|stop), svc
# (nginx|nsd), rate (client requests per second of the service's kind), exa (1: an ExaBGP panel).
load sprintf("%s/clients-%s-%s.gpvars", dir, kind, svc)
what = (svc eq "nginx") ? "HTTP GETs (a fresh connection each)" : "DNS queries (a fresh socket each)"
event = (kind eq "crash") ? sprintf("SIGKILL of %s", svc) : sprintf("planned stop of %s", svc)
set terminal pngcairo size 1400,600 font "DejaVu Sans,10"
set output png
set multiplot layout 1, (exa ? 2 : 1) title sprintf("%s at PoP 1: client %s per 10 ms at %d/s, mean over the trials", event, what, rate) font ",12"
set xrange [-0.5:3.5]
set yrange [0:rate / 100.0 * 1.6]
set xlabel "seconds after the event"
set ylabel "requests per 10 ms"
set grid ytics
set key below horizontal
set style fill solid 0.7 noborder
do for [w in (exa ? "agent exabgp" : "agent")] {
	p50 = value("gone_" . w . "_p50")
	mx = value("gone_" . w . "_max")
	n = value("trials_" . w)
	f = value("fails_" . w)
	who = (w eq "agent") ? "anycast-agent" . ((kind eq "crash") ? " with death watches" : ": drain --wait, then the stop") : "ExaBGP healthcheck" . ((kind eq "crash") ? "" : ": the stop")
	set title sprintf("%s\nroute gone at the transit after %.0f ms (median of %d; max %.0f), %.1f failed requests per event", who, p50 * 1000, n, mx * 1000, f) font ",10"
	label0 = (kind eq "crash") ? "SIGKILL" : ((w eq "agent") ? "drain begins" : "stop")
	unset arrow
	unset label
	set arrow 1 from 0, graph 0 to 0, graph 1 nohead lw 2 lc rgb "black"
	set arrow 2 from p50, graph 0 to p50, graph 1 nohead lw 2 dt 2 lc rgb "blue"
	set label 1 label0 at 0.03, graph 0.95 left
	set label 2 ((w eq "agent" && kind eq "stop") ? "withdrawn (median), then the stop" : "route gone (median)") at p50 + 0.03, graph 0.88 left tc rgb "blue"
	file = sprintf("%s/clients-%s-%s-%s.dat", dir, kind, svc, w)
	# failed stacked on succeeded: the red part of a bar is the failed requests
	plot file using ($1 + 0.005):($2 + $3) with boxes lc rgb "#d62728" title "failed", \
	     file using ($1 + 0.005):2 with boxes lc rgb "#2ca02c" title "succeeded"
}
unset multiplot
