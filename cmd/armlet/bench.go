package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/bench"
	"github.com/armlet/armlet/internal/config"
)

const benchUsage = `Usage: armlet bench [flags]

Drives armlet over HTTPS (HTTP/1.1 keep-alive) with concurrent connections
and reports requests/s and p50/p99/max latency per scenario, beside a bare
Go TLS server and optionally Azurite; with --scenarios blob, upload and
download of 1 MiB and 64 MiB blobs through armlet's HTTPS proxy in MiB/s
(beside Azurite's with --peer azurite) and the memory around them; cold start and resident memory of
this armlet binary; GET and list latency as the store grows. With --store
etcd://host:port it runs the scenarios again on 1 (or each --replicas
count of) in-process armlets sharing that etcd, requests rotating over
them, beside the bbolt figures.

Flags:
`

// benchFlags parses the flags of `armlet bench`.
func benchFlags(args []string, stderr io.Writer) (bench.Options, bool, error) {
	o, asJSON, _, err := benchFlagsProfile(args, stderr)
	return o, asJSON, err
}

// benchProfiles names the files the profiles of a bench run go to; empty
// for none.
type benchProfiles struct {
	cpu, mutex, block string
}

// benchFlagsProfile is benchFlags plus the profile flags.
func benchFlagsProfile(args []string, stderr io.Writer) (bench.Options, bool, benchProfiles, error) {
	var o bench.Options
	var prof benchProfiles
	var asJSON, noStartup bool
	var scales, scenarios, replicas string
	var blobBlockMiB int
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage)
		fs.PrintDefaults()
	}
	fs.IntVar(&o.Connections, "connections", 64, "concurrent keep-alive connections")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "measured time per scenario")
	fs.DurationVar(&o.ScaleDuration, "scale-duration", 0, "measured time per scale step and call (default: half of --duration)")
	fs.IntVar(&o.ListSize, "list-size", 10000, "workspaces in the listed resource group")
	fs.StringVar(&scales, "scale", "1000,10000,100000", "store sizes (workspaces) for the scale measurement, comma-separated; empty for none")
	fs.StringVar(&scenarios, "scenarios", strings.Join(bench.AllScenarios, ","), "armlet scenarios to run, comma-separated; also "+strings.Join(bench.BlobScenarios, ", ")+" (or blob for these four), not run by default")
	fs.IntVar(&o.BlobConnections, "blob-connections", 0, "concurrent connections of every blob scenario (default: 8 for 1 MiB, 2 for 64 MiB)")
	fs.IntVar(&blobBlockMiB, "blob-block-mib", 8, "block size in MiB of blob uploads larger than it (Put Block, Put Block List); 64 sends the 64 MiB blob in one Put Blob")
	fs.StringVar(&o.Target, "target", "", "connection.json of a running armlet (default: start one in-process on a temporary bbolt data dir)")
	fs.StringVar(&o.Store, "store", "", "also run the scenarios on in-process armlet replicas sharing this etcd: etcd://host:port[,host:port] (plain, no TLS); the bbolt run stays beside it")
	fs.StringVar(&replicas, "replicas", "", "replica counts run in turn on --store, comma-separated, e.g. 1,2,3 (default 1)")
	fs.BoolVar(&o.Compact, "compact", false, "compact etcd after each replica count (drops the history of every key: only on an etcd of your own)")
	fs.StringVar(&o.Binary, "binary", "", "armlet binary spawned for cold start and memory (default: this executable)")
	fs.BoolVar(&noStartup, "no-startup", false, "skip the cold start and memory measurement")
	fs.StringVar(&o.Peer, "peer", "", "also drive a peer emulator: azurite")
	fs.StringVar(&o.AzuritePath, "azurite", "", "Azurite executable (default: azurite on PATH, then npx --no-install azurite)")
	fs.BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	fs.StringVar(&prof.cpu, "cpuprofile", "", "write a CPU profile of the whole run (client and in-process armlet) to this file")
	fs.StringVar(&prof.mutex, "mutexprofile", "", "write a profile of mutex contention over the whole run to this file")
	fs.StringVar(&prof.block, "blockprofile", "", "write a profile of where goroutines blocked (channels, locks, select; not the network) over the whole run to this file")
	var err error
	if err = fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, false, prof, err
		}
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		return o, false, prof, &config.UsageError{Err: err, Hint: config.FlagHint(fs, args, names)}
	}
	if fs.NArg() > 0 {
		return o, false, prof, usageErr("unexpected argument %q: armlet bench takes only flags", fs.Arg(0))
	}
	if o.BlobConnections < 0 {
		return o, false, prof, fmt.Errorf("--blob-connections must be positive")
	}
	if blobBlockMiB < 1 || blobBlockMiB > 4000 {
		return o, false, prof, fmt.Errorf("--blob-block-mib must be 1 to 4000 (Azure's largest block)")
	}
	o.BlobBlock = blobBlockMiB << 20
	if o.Connections < 1 {
		return o, false, prof, fmt.Errorf("--connections must be at least 1")
	}
	if o.Duration <= 0 || o.ScaleDuration < 0 {
		return o, false, prof, fmt.Errorf("--duration must be positive")
	}
	if o.ListSize < 1 {
		return o, false, prof, fmt.Errorf("--list-size must be at least 1")
	}
	if o.Peer != "" && o.Peer != "azurite" {
		return o, false, prof, fmt.Errorf("--peer: unknown peer %q (only azurite)", o.Peer)
	}
	if o.Scales, err = increasing("scale", scales); err != nil {
		return o, false, prof, err
	}
	if o.Replicas, err = increasing("replicas", replicas); err != nil {
		return o, false, prof, err
	}
	if err := o.Check(); err != nil {
		return o, false, prof, err
	}
	for s := range strings.SplitSeq(scenarios, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if s == bench.ScenarioBlob {
			o.Scenarios = append(o.Scenarios, bench.BlobScenarios...)
			continue
		}
		if !contains(bench.KnownScenarios(), s) {
			return o, false, prof, fmt.Errorf("--scenarios: unknown scenario %q (known: %s, %s)", s, strings.Join(bench.KnownScenarios(), ", "), bench.ScenarioBlob)
		}
		o.Scenarios = append(o.Scenarios, s)
	}
	if noStartup {
		o.Binary = ""
	} else if o.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return o, false, prof, fmt.Errorf("finding this executable for the startup measurement (use --binary or --no-startup): %w", err)
		}
		o.Binary = exe
	}
	return o, asJSON, prof, nil
}

// increasing parses the comma-separated value of --name: positive,
// increasing numbers; nil when empty.
func increasing(name, list string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--%s: %q is not a positive number", name, f)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, fmt.Errorf("--%s: numbers must increase", name)
		}
		out = append(out, n)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// benchCmd is `armlet bench`.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, asJSON, prof, err := benchFlagsProfile(args, stderr)
	if err != nil {
		return err
	}
	o.Progress = stderr
	if prof.cpu != "" {
		f, err := os.Create(prof.cpu)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if prof.mutex != "" {
		runtime.SetMutexProfileFraction(1)
		defer runtime.SetMutexProfileFraction(0)
		defer writeProfile(stderr, "mutex", prof.mutex)
	}
	if prof.block != "" {
		runtime.SetBlockProfileRate(1)
		defer runtime.SetBlockProfileRate(0)
		defer writeProfile(stderr, "block", prof.block)
	}
	rep, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "armlet bench %s\n\n", strings.Join(args, " "))
	return rep.WriteTable(stdout)
}

// writeProfile writes the named runtime profile to path; a failure is
// reported, not returned: the run's figures are already printed.
func writeProfile(stderr io.Writer, name, path string) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup(name).WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "armlet bench: writing the %s profile: %v\n", name, err)
	}
}
