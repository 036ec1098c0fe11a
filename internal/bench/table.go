package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable writes the report as aligned text tables.
func (r *Report) WriteTable(out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	m := r.Machine
	fmt.Fprintf(w, "machine: %s/%s, %d CPUs (GOMAXPROCS %d) %s, %s\n", m.OS, m.Arch, m.CPUs, m.GOMAXPROCS, m.CPUModel, m.GoVersion)
	fmt.Fprintf(w, "target: %s\n", r.Target)
	fmt.Fprintf(w, "client: %s; %d connections; %gs per scenario\n\n", r.Protocol, r.Connections, r.Seconds)
	fmt.Fprintln(w, "scenario\treq/s\tp50 ms\tp99 ms\tmax ms\trequests\terrors\t")
	row := func(s Stats) {
		fmt.Fprintf(w, "%s\t%.0f\t%.2f\t%.2f\t%.2f\t%d\t%d\t\n", s.Name, s.RPS, s.P50Ms, s.P99Ms, s.MaxMs, s.Requests, s.Errors)
	}
	for _, s := range r.Scenarios {
		row(s)
	}
	row(r.Bare)
	if r.Peer != nil {
		for _, s := range r.Peer.Calls {
			row(s)
		}
	}
	fmt.Fprintln(w)
	for _, s := range append(append([]Stats{}, r.Scenarios...), r.Bare) {
		if s.Note != "" {
			fmt.Fprintf(w, "  %s: %s\n", s.Name, s.Note)
		}
	}
	fmt.Fprintf(w, "\narmlet GET / bare server GET: %.2f\n", r.GetToBare)
	if p := r.Peer; p != nil {
		if p.Skipped != "" {
			fmt.Fprintf(w, "azurite: skipped: %s\n", p.Skipped)
		} else {
			fmt.Fprintf(w, "armlet GET workspace / azurite get container properties: %.2f\n", p.GetRatio)
			fmt.Fprintf(w, "armlet PUT workspace / azurite create container: %.2f\n", p.PutRatio)
			fmt.Fprintf(w, "azurite get container properties / bare server GET: %.2f\n", p.ToBare)
		}
	}
	if st := r.Startup; st != nil {
		fmt.Fprintf(w, "\nstartup (spawned %s, bbolt data dir):\n", st.Binary)
		fmt.Fprintf(w, "  cold start to healthy\t%.1f ms (empty data dir)\t\n", st.ColdStartMs)
		fmt.Fprintf(w, "  restart to healthy\t%.1f ms (%d workspaces stored)\t\n", st.RestartMs, st.Resources)
		fmt.Fprintf(w, "  idle RSS\t%.1f MB\t\n", st.IdleRSSMB)
		fmt.Fprintf(w, "  RSS with %d workspaces\t%.1f MB (%.1f MB per 10k)\t\n", st.Resources, st.RSSWithMB, st.RSSPer10kMB)
	}
	if len(r.Scale) > 0 {
		fmt.Fprintln(w, "\nscale (workspaces in one resource group):")
		fmt.Fprintln(w, "workspaces\tGET req/s\tGET p50\tGET p99\tlist page 1 req/s\tlist p50\tlist p99\theap MB\t")
		for _, s := range r.Scale {
			fmt.Fprintf(w, "%d\t%.0f\t%.2f\t%.2f\t%.0f\t%.2f\t%.2f\t%.1f\t\n", s.Workspaces,
				s.Get.RPS, s.Get.P50Ms, s.Get.P99Ms, s.ListFirstPage.RPS, s.ListFirstPage.P50Ms, s.ListFirstPage.P99Ms, s.HeapMB)
		}
	}
	fmt.Fprintln(w, "\ntargets (issue 6):")
	for _, c := range r.Targets {
		verdict := "not met"
		switch {
		case !c.Measured:
			verdict = "not measured"
		case c.Met:
			verdict = "met"
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t\n", c.Target, c.Actual, verdict)
	}
	return w.Flush()
}
