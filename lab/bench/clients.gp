# lab/bench/clients.gp - one picture of lab/bench/clients: what clients see around one kind of
# event at PoP 1, anycast-agent and ExaBGP's healthcheck side by side. Variables (gnuplot -e):
# dir (where the .dat and .gpvars files are), kind (crash|stop), svc (nginx|nsd), rate (client
# requests per second of the service's kind), exa (1: an ExaBGP panel).
load sprintf("%s/clients-%s-%s.gpvars", dir, kind, svc)
what = (svc eq "nginx") ? "HTTP GETs" : "DNS queries"
event = (kind eq "crash") ? sprintf("SIGKILL of %s", svc) : sprintf("planned stop of %s", svc)
set terminal pngcairo size 1400,520 font "DejaVu Sans,10"
set output sprintf("%s/clients-%s-%s.png", dir, kind, svc)
set multiplot layout 1, (exa ? 2 : 1) title sprintf("%s at PoP 1: client %s (%d/s, fresh connections) per 10 ms, mean over the trials", event, what, rate) font ",12"
set xrange [-0.5:3.5]
set yrange [0:rate / 100.0 * 1.6]
set xlabel "seconds after the event"
set ylabel "requests per 10 ms"
set grid ytics
set key top right
set style fill solid 0.6 noborder
panel(who, p50, mx, n, f) = sprintf("%s: route gone at the transit after %.0f ms (median; max %.0f), %.1f failed per event, %d trials", who, p50 * 1000, mx * 1000, f, n)
do for [w in (exa ? "agent exabgp" : "agent")] {
	p50 = value("gone_" . w . "_p50")
	mx = value("gone_" . w . "_max")
	n = value("trials_" . w)
	f = value("fails_" . w)
	set title panel((w eq "agent") ? "anycast-agent" : "ExaBGP healthcheck", p50, mx, n, f) font ",10"
	unset arrow
	set arrow 1 from 0, graph 0 to 0, graph 1 nohead lw 2 lc rgb "black"
	set arrow 2 from p50, graph 0 to p50, graph 1 nohead lw 2 dt 2 lc rgb "blue"
	set label 1 "event" at 0.02, graph 0.95 left
	set label 2 "route gone (median)" at p50 + 0.02, graph 0.88 left tc rgb "blue"
	file = sprintf("%s/clients-%s-%s-%s.dat", dir, kind, svc, w)
	plot file using ($1 + 0.005):2 with boxes lc rgb "#2ca02c" title "succeeded", \
	     file using ($1 + 0.005):3 with boxes lc rgb "#d62728" title "failed"
}
unset multiplot
