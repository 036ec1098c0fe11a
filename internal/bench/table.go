package bench

import (
	"fmt"
	"io"
	"strings"
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
	if r.BareList != nil {
		row(*r.BareList)
	}
	if r.Peer != nil {
		for _, s := range r.Peer.Calls {
			row(s)
		}
	}
	fmt.Fprintln(w)
	notes := append(append([]Stats{}, r.Scenarios...), r.Bare)
	if r.BareList != nil {
		notes = append(notes, *r.BareList)
	}
	for _, s := range notes {
		if s.Note != "" {
			fmt.Fprintf(w, "  %s: %s\n", s.Name, s.Note)
		}
	}
	fmt.Fprintln(w)
	_, hasGet := r.Scenario(ScenarioGet)
	_, hasPut := r.Scenario(ScenarioPut)
	if hasGet { // a run of blob scenarios alone has no ratio to show
		fmt.Fprintf(w, "armlet GET / bare server GET: %.2f\n", r.GetToBare)
	}
	if p := r.Peer; p != nil {
		if p.Skipped != "" {
			fmt.Fprintf(w, "azurite: skipped: %s\n", p.Skipped)
		} else {
			if hasGet {
				fmt.Fprintf(w, "armlet GET workspace / azurite get container properties: %.2f\n", p.GetRatio)
			}
			if hasPut {
				fmt.Fprintf(w, "armlet PUT workspace / azurite create container: %.2f\n", p.PutRatio)
			}
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
		fmt.Fprintln(w, "workspaces\tGET req/s\tGET p50\tGET p99\tlist page 1 req/s\tlist p50\tlist p99\theap MB\ttarget RSS MB\t")
		for _, s := range r.Scale {
			fmt.Fprintf(w, "%d\t%.0f\t%.2f\t%.2f\t%.0f\t%.2f\t%.2f\t%s\t%s\t\n", s.Workspaces,
				s.Get.RPS, s.Get.P50Ms, s.Get.P99Ms, s.ListFirstPage.RPS, s.ListFirstPage.P50Ms, s.ListFirstPage.P99Ms,
				orDash(s.HeapMB), orDash(s.RSSMB))
		}
	}
	r.writeBlob(w)
	r.writeReplicas(w)
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

// writeReplicas writes the runs on etcd beside the main run, scenario by
// scenario.
func (r *Report) writeReplicas(w io.Writer) {
	if len(r.Replicas) == 0 {
		return
	}
	main := "target"
	if strings.HasPrefix(r.Target, describeBbolt) {
		main = "bbolt"
	}
	fmt.Fprintf(w, "\nreplicas on one etcd (%s), each request to the next replica:\n", r.Replicas[0].Store)
	fmt.Fprintln(w, "scenario\tstore\treplicas\treq/s\tp50 ms\tp99 ms\tmax ms\trequests\terrors\t")
	row := func(store string, n int, s Stats) {
		fmt.Fprintf(w, "%s\t%s\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%d\t%d\t\n", s.Name, store, n, s.RPS, s.P50Ms, s.P99Ms, s.MaxMs, s.Requests, s.Errors)
	}
	var notes []string
	for _, s := range r.Replicas[0].Scenarios {
		if m, ok := r.Scenario(s.Name); ok {
			row(main, 1, m)
		}
		for _, rr := range r.Replicas {
			if rs, ok := rr.Scenario(s.Name); ok {
				row("etcd", rr.Replicas, rs)
				if rs.Errors > 0 {
					notes = append(notes, fmt.Sprintf("  %s, %d replicas: %s", rs.Name, rr.Replicas, rs.Note))
				}
			}
		}
	}
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
}

// orDash prints a measured figure, or "-" for one the run could not take.
func orDash(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", v)
}
