package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Blob scenario names: upload (Put Blob, or Put Block and Put Block List)
// and download (Get Blob) of one block blob of 1 MiB or 64 MiB, through
// armlet's HTTPS proxy with Shared Key, and the same calls on Azurite
// with --peer azurite. They are not in AllScenarios (the default run):
// --scenarios names them, or "blob" for all four.
const (
	ScenarioBlobUpload1M    = "blob-upload-1m"
	ScenarioBlobUpload64M   = "blob-upload-64m"
	ScenarioBlobDownload1M  = "blob-download-1m"
	ScenarioBlobDownload64M = "blob-download-64m"
	// ScenarioBlob names the four blob scenarios on the command line.
	ScenarioBlob = "blob"
)

// BlobScenarios are the blob data plane scenarios, in the order they run.
var BlobScenarios = []string{ScenarioBlobUpload1M, ScenarioBlobDownload1M, ScenarioBlobUpload64M, ScenarioBlobDownload64M}

// KnownScenarios are the names --scenarios accepts: AllScenarios and
// BlobScenarios.
func KnownScenarios() []string { return append(slices.Clone(AllScenarios), BlobScenarios...) }

// Blob sizes and concurrency by default. Choice: 8 connections for 1 MiB
// and 2 for 64 MiB keep two cores busy without one transfer waiting long
// behind the others. The 64 MiB upload goes in 8 MiB blocks to measure the
// block path, though the SDKs send it in one Put Blob (azblob up to
// 256 MiB, azure-storage-blob up to 64 MiB) and use blocks of 4 MiB or more
// beyond; fewer, larger blocks weigh less on the per-request cost both
// emulators pay.
const (
	defaultBlobSmall      = 1 << 20
	defaultBlobLarge      = 64 << 20
	defaultBlobBlock      = 8 << 20
	defaultBlobConnsSmall = 8
	defaultBlobConnsLarge = 2
)

// BlobRun is one blob scenario on armlet and, with --peer azurite, on
// Azurite. In its Stats one request is one blob moved (for a blocked
// upload, every Put Block and the Put Block List).
type BlobRun struct {
	Name        string `json:"name"`
	Bytes       int    `json:"bytes"`
	Connections int    `json:"connections"`
	// Calls says which REST calls move one blob.
	Calls   string `json:"calls"`
	Armlet  Stats  `json:"armlet"`
	Azurite *Stats `json:"azurite,omitempty"`
	// Ratio is armlet's MiB/s over Azurite's.
	Ratio  float64     `json:"armletToAzurite,omitempty"`
	Memory *BlobMemory `json:"memory,omitempty"`
}

// BlobMemory is armlet's memory around one blob scenario: with armlet
// in-process, the bench process's Go heap and RSS (the load generator
// shares the process: its part is the one payload buffer, allocated before
// "before", and its connections' buffers); with --target, the RSS of the
// process named by armlet.pid beside connection.json, when it is there.
// Heap figures are after a collection; the peaks are sampled every 50 ms
// during the scenario. Azurite's RSS is its process's VmRSS around the
// same scenario on Azurite.
type BlobMemory struct {
	// Process says whose memory this is.
	Process            string  `json:"process,omitempty"`
	HeapBeforeMB       float64 `json:"heapBeforeMB"`
	HeapPeakMB         float64 `json:"heapPeakMB"`
	HeapAfterMB        float64 `json:"heapAfterMB"`
	RSSBeforeMB        float64 `json:"rssBeforeMB"`
	RSSPeakMB          float64 `json:"rssPeakMB"`
	RSSAfterMB         float64 `json:"rssAfterMB"`
	AzuriteRSSBeforeMB float64 `json:"azuriteRSSBeforeMB,omitempty"`
	AzuriteRSSAfterMB  float64 `json:"azuriteRSSAfterMB,omitempty"`
}

// blobCase is one selected blob scenario with its size and connections.
type blobCase struct {
	name   string
	upload bool
	size   int
	conns  int
}

// blobCases are the blob scenarios of o.Scenarios, in BlobScenarios'
// order.
func (o Options) blobCases() []blobCase {
	var out []blobCase
	for _, name := range BlobScenarios {
		if !slices.Contains(o.Scenarios, name) {
			continue
		}
		c := blobCase{name: name, upload: strings.HasPrefix(name, "blob-upload-"), size: o.BlobSmall, conns: defaultBlobConnsSmall}
		if strings.HasSuffix(name, "-64m") {
			c.size, c.conns = o.BlobLarge, defaultBlobConnsLarge
		}
		if o.BlobConnections > 0 {
			c.conns = o.BlobConnections
		}
		out = append(out, c)
	}
	return out
}

func isBlobScenario(name string) bool { return slices.Contains(BlobScenarios, name) }

// withoutBlob is scenarios less the blob ones.
func withoutBlob(scenarios []string) []string {
	return slices.DeleteFunc(slices.Clone(scenarios), isBlobScenario)
}

// blobCalls describes how one blob of size is moved.
func blobCalls(c blobCase, block int) string {
	switch {
	case !c.upload:
		return "Get Blob, whole, streamed"
	case c.size <= block:
		return "Put Blob, single shot"
	}
	n := (c.size + block - 1) / block
	return fmt.Sprintf("%d Put Block of %s in turn, then Put Block List", n, mib(block))
}

func mib(n int) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

// blobEndpoint is a blob service with one container, signed with Shared
// Key.
type blobEndpoint struct {
	client *http.Client
	// base is the service URL, with the account's path segment for a
	// path-style endpoint (Azurite); prefix is that segment ("" when the
	// account is the host's).
	base, prefix string
	account      string
	key          []byte
	container    string
}

// send makes one signed request on blob (the container itself when
// blob is ""). body, when not nil, is read from a shared payload (no
// copy). The caller closes the response's body.
func (e *blobEndpoint) send(ctx context.Context, method, blob string, query map[string]string, body []byte, hdr map[string]string) (*http.Response, error) {
	path := e.prefix + "/" + e.container
	if blob != "" {
		path += "/" + blob
	}
	u := e.base + "/" + e.container
	if blob != "" {
		u += "/" + blob
	}
	if len(query) > 0 {
		q := url.Values{}
		for k, v := range query {
			q.Set(k, v)
		}
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("x-ms-date", time.Now().UTC().Format(http.TimeFormat))
	req.Header.Set("x-ms-version", azVersion)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	// Signed only: net/http sends the request's own length.
	req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	req.Header.Set("Authorization", signSharedKey(e.account, e.key, method, req.Header, path, query))
	req.Header.Del("Content-Length")
	return e.client.Do(req)
}

// call sends a request and expects one of statuses, draining the answer.
func (e *blobEndpoint) call(ctx context.Context, method, blob string, query map[string]string, body []byte, hdr map[string]string, statuses ...int) error {
	resp, err := e.send(ctx, method, blob, query, body, hdr)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if !slices.Contains(statuses, resp.StatusCode) {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("%s %s: status %d: %s", method, blob, resp.StatusCode, bytes.TrimSpace(b))
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// createContainer makes the endpoint's container (an existing one is
// fine).
func (e *blobEndpoint) createContainer(ctx context.Context) error {
	return e.call(ctx, http.MethodPut, "", map[string]string{"restype": "container"}, nil, nil, 201, 409)
}

// upload writes blob with data: Put Blob when it fits in one block, else
// Put Block of block bytes each and Put Block List, as the SDKs do.
func (e *blobEndpoint) upload(ctx context.Context, blob string, data []byte, block int) error {
	if len(data) <= block {
		return e.call(ctx, http.MethodPut, blob, nil, data, map[string]string{"x-ms-blob-type": "BlockBlob"}, 201)
	}
	var list strings.Builder
	list.WriteString(`<?xml version="1.0" encoding="utf-8"?><BlockList>`)
	for i, off := 0, 0; off < len(data); i, off = i+1, off+block {
		id := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "block-%06d", i))
		if err := e.call(ctx, http.MethodPut, blob, map[string]string{"comp": "block", "blockid": id}, data[off:min(off+block, len(data))], nil, 201); err != nil {
			return err
		}
		list.WriteString("<Latest>" + id + "</Latest>")
	}
	list.WriteString("</BlockList>")
	return e.call(ctx, http.MethodPut, blob, map[string]string{"comp": "blocklist"}, []byte(list.String()), nil, 201)
}

// download reads blob whole, streamed into nothing, and checks its length.
func (e *blobEndpoint) download(ctx context.Context, blob string, size int) error {
	resp, err := e.send(ctx, http.MethodGet, blob, nil, nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("GET %s: status %d: %s", blob, resp.StatusCode, bytes.TrimSpace(b))
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && n != int64(size) {
		err = fmt.Errorf("GET %s: %d bytes, want %d", blob, n, size)
	}
	return err
}

// runBlobCase drives one blob scenario on e: each connection uploads its
// own blob again and again (so the store holds one blob per connection,
// not one per request), or every connection reads the one blob uploaded
// first.
func runBlobCase(ctx context.Context, e *blobEndpoint, c blobCase, payload []byte, block int, d time.Duration) Stats {
	data := payload[:c.size]
	down := fmt.Sprintf("down-%d", c.size)
	if !c.upload {
		if err := e.upload(ctx, down, data, block); err != nil {
			return Stats{Name: c.name, Note: "uploading the blob to read: " + err.Error()}
		}
	}
	s := drive(ctx, c.name, c.conns, d, func(ctx context.Context, w int, _ *rand.Rand) error {
		if c.upload {
			return e.upload(ctx, fmt.Sprintf("up-%d-%d", c.size, w), data, block)
		}
		return e.download(ctx, down, c.size)
	})
	// A blob takes long: keep the fractions drive rounds away.
	if s.Seconds > 0 {
		s.RPS = round(float64(s.Requests)/s.Seconds, 2)
		s.MiBPerSecond = round(float64(s.Requests)*float64(c.size)/(1<<20)/s.Seconds, 1)
	}
	return s
}

// armletBlobEndpoint makes a storage account through ARM (resource group
// bench-blob), takes its key1 from listKeys and creates a container
// through the data plane; requests go through armlet's HTTPS proxy to
// https://{account}.blob.core.windows.net, as a client with HTTPS_PROXY.
func (b *armletBench) armletBlobEndpoint(ctx context.Context, conns int) (*blobEndpoint, error) {
	const (
		rg      = "bench-blob"
		account = "armletbench"
		stAPI   = "2023-05-01"
	)
	if b.a.conn.HTTPSProxy == "" {
		return nil, fmt.Errorf("blob scenarios need armlet's HTTPS proxy (httpsProxy in connection.json; --proxy-listen)")
	}
	r, err := b.a.t.do(ctx, http.MethodPut, b.rgPath(rg)+"?api-version="+rgAPI, []byte(`{"location":"eastus"}`), nil)
	if err == nil {
		err = r.expect(200, 201)
	}
	if err != nil {
		return nil, fmt.Errorf("create resource group %s: %w", rg, err)
	}
	acct := b.rgPath(rg) + "/providers/Microsoft.Storage/storageAccounts/" + account
	r, err = b.a.t.do(ctx, http.MethodPut, acct+"?api-version="+stAPI,
		[]byte(`{"location":"eastus","kind":"StorageV2","sku":{"name":"Standard_LRS"}}`), nil)
	if err == nil {
		err = r.expect(200, 201, 202)
	}
	if err != nil {
		return nil, fmt.Errorf("create storage account: %w", err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r, err = b.a.t.do(ctx, http.MethodGet, acct+"?api-version="+stAPI, nil, nil)
		if err != nil {
			return nil, err
		}
		if r.status == 200 && bytes.Contains(r.body, []byte(`"provisioningState":"Succeeded"`)) {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("storage account not provisioned: %w", r.expect(0))
		}
		time.Sleep(50 * time.Millisecond) // polling
	}
	r, err = b.a.t.do(ctx, http.MethodPost, acct+"/listKeys?api-version="+stAPI, nil, nil)
	if err == nil {
		err = r.expect(200)
	}
	var keys struct{ Keys []struct{ Value string } }
	if err == nil {
		err = r.json(&keys)
	}
	if err == nil && len(keys.Keys) == 0 {
		err = fmt.Errorf("no keys")
	}
	if err != nil {
		return nil, fmt.Errorf("listKeys: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(keys.Keys[0].Value)
	if err != nil {
		return nil, fmt.Errorf("listKeys: key1: %w", err)
	}
	proxy, err := url.Parse(b.a.conn.HTTPSProxy)
	if err != nil {
		return nil, fmt.Errorf("httpsProxy: %w", err)
	}
	client := newClient(b.a.t.client.Transport.(*http.Transport).TLSClientConfig.RootCAs, conns)
	client.Transport.(*http.Transport).Proxy = http.ProxyURL(proxy)
	e := &blobEndpoint{client: client, base: "https://" + account + ".blob.core.windows.net", account: account, key: key, container: "bench"}
	if err := e.createContainer(ctx); err != nil {
		return nil, fmt.Errorf("create container: %w", err)
	}
	return e, nil
}

// blobPayload is the one read-only buffer every upload reads from (random
// bytes, so nothing on the way could compress it), as large as the largest
// selected blob.
func blobPayload(cases []blobCase) []byte {
	n := 0
	for _, c := range cases {
		n = max(n, c.size)
	}
	p := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{'a', 'r', 'm', 'l', 'e', 't'}).Read(p)
	return p
}

// blobs runs the selected blob scenarios on armlet, with the memory of the
// process around each when armlet is in-process.
func (b *armletBench) blobs(ctx context.Context, payload []byte) ([]BlobRun, error) {
	cases := b.o.blobCases()
	if len(cases) == 0 {
		return nil, nil
	}
	conns := 0
	for _, c := range cases {
		conns = max(conns, c.conns)
	}
	e, err := b.armletBlobEndpoint(ctx, conns)
	if err != nil {
		return nil, err
	}
	defer e.client.CloseIdleConnections()
	var out []BlobRun
	for _, c := range cases {
		b.logf("scenario %s: %d connections for %s", c.name, c.conns, b.o.Duration)
		run := BlobRun{Name: c.name, Bytes: c.size, Connections: c.conns, Calls: blobCalls(c, b.o.BlobBlock)}
		var stop func() *BlobMemory
		if b.a.srv != nil {
			stop = watchMemory(os.Getpid(), "the bench process, armlet in-process (heap after a GC; the load generator's payload included)")
		} else if pid := targetPID(b.o.Target); pid > 0 {
			stop = watchMemory(pid, fmt.Sprintf("the running armlet, pid %d (RSS only)", pid))
		}
		dropped := b.droppedFlows()
		run.Armlet = runBlobCase(ctx, e, c, payload, b.o.BlobBlock, b.o.Duration)
		if d := b.droppedFlows() - dropped; d > 0 {
			run.Armlet.Note = join(run.Armlet.Note, fmt.Sprintf("%d flow records dropped (the flow writer fell behind)", d))
		}
		if stop != nil {
			run.Memory = stop()
		}
		out = append(out, run)
	}
	return out, nil
}

// watchMemory reads the RSS of pid (and when pid is this process, its heap
// after a collection), then samples them until the returned function is
// called, which reads them again.
func watchMemory(pid int, process string) func() *BlobMemory {
	self := pid == os.Getpid()
	m := &BlobMemory{Process: process}
	if self {
		m.HeapBeforeMB = heapAfterGC()
	}
	m.RSSBeforeMB, _ = rssMB(pid)
	m.HeapPeakMB, m.RSSPeakMB = m.HeapBeforeMB, m.RSSBeforeMB
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if self {
				metrics.Read(sample)
				if sample[0].Value.Kind() == metrics.KindUint64 {
					m.HeapPeakMB = max(m.HeapPeakMB, round(float64(sample[0].Value.Uint64())/(1<<20), 1))
				}
			}
			rss, _ := rssMB(pid)
			m.RSSPeakMB = max(m.RSSPeakMB, rss)
		}
	})
	return func() *BlobMemory {
		close(done)
		wg.Wait()
		if self {
			m.HeapAfterMB = heapAfterGC()
		}
		m.RSSAfterMB, _ = rssMB(pid)
		return m
	}
}

func heapAfterGC() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return round(float64(ms.HeapAlloc)/(1<<20), 1)
}

// targetPID is the process of the running armlet whose connection.json is
// target: the armlet.pid its data dir holds beside it (0 when there is
// none, as when the armlet runs on another machine).
func targetPID(target string) int {
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(target), "armlet.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 0 {
		return 0
	}
	if _, err := rssMB(pid); err != nil {
		return 0 // not running here
	}
	return pid
}

// azuriteBlobs runs the blob scenarios of rep.Blob on Azurite at base
// (its RSS read from pid) and fills in their Azurite figures and ratios.
func azuriteBlobs(ctx context.Context, o Options, rep *Report, base string, tlsConf *tls.Config, pid int, payload []byte, logf func(string, ...any)) error {
	cases := o.blobCases()
	conns := 0
	for _, c := range cases {
		conns = max(conns, c.conns)
	}
	key, _ := base64.StdEncoding.DecodeString(azKey)
	e := &blobEndpoint{client: newClient(tlsConf.RootCAs, conns), base: base + "/" + azAccount, prefix: "/" + azAccount,
		account: azAccount, key: key, container: "blobbench"}
	defer e.client.CloseIdleConnections()
	if err := e.createContainer(ctx); err != nil {
		return fmt.Errorf("create container: %w", err)
	}
	for _, c := range cases {
		i := slices.IndexFunc(rep.Blob, func(r BlobRun) bool { return r.Name == c.name })
		if i < 0 {
			continue
		}
		logf("peer azurite: %s: %d connections", c.name, c.conns)
		before, _ := rssMB(pid)
		s := runBlobCase(ctx, e, c, payload, o.BlobBlock, o.Duration)
		after, _ := rssMB(pid)
		run := &rep.Blob[i]
		run.Azurite = &s
		run.Ratio = ratio(run.Armlet.MiBPerSecond, s.MiBPerSecond)
		if run.Memory == nil {
			run.Memory = &BlobMemory{}
		}
		run.Memory.AzuriteRSSBeforeMB, run.Memory.AzuriteRSSAfterMB = before, after
	}
	return nil
}

// blobCheck is issue 21's target for the blob data plane, when blob
// scenarios ran.
func blobCheck(r *Report) (Check, bool) {
	if len(r.Blob) == 0 {
		return Check{}, false
	}
	c := Check{Target: "blob upload and download at least twice Azurite's MiB/s (issue 21)", Met: true, Measured: true}
	var parts []string
	for _, b := range r.Blob {
		if b.Azurite == nil || b.Azurite.MiBPerSecond == 0 {
			c.Met, c.Measured = false, false
			parts = append(parts, b.Name+" not measured on Azurite")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.1fx", b.Name, b.Ratio))
		c.Met = c.Met && b.Ratio >= 2
	}
	c.Actual = strings.Join(parts, ", ")
	return c, true
}

// writeBlob writes the blob scenarios' table.
func (r *Report) writeBlob(w io.Writer) {
	if len(r.Blob) == 0 {
		return
	}
	fmt.Fprintln(w, "\nblob data plane (armlet through its HTTPS proxy; Shared Key on both; one request is one blob):")
	fmt.Fprintln(w, "scenario\tconns\tarmlet MiB/s\tblobs/s\tp50 ms\tp99 ms\terrors\tazurite MiB/s\tblobs/s\tp50 ms\tp99 ms\terrors\tarmlet/azurite\t")
	for _, b := range r.Blob {
		a := b.Armlet
		fmt.Fprintf(w, "%s\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%d\t", b.Name, b.Connections, a.MiBPerSecond, a.RPS, a.P50Ms, a.P99Ms, a.Errors)
		if z := b.Azurite; z != nil {
			fmt.Fprintf(w, "%.1f\t%.2f\t%.2f\t%.2f\t%d\t%.2f\t\n", z.MiBPerSecond, z.RPS, z.P50Ms, z.P99Ms, z.Errors, b.Ratio)
		} else {
			fmt.Fprintln(w, "-\t-\t-\t-\t-\t-\t")
		}
	}
	for _, b := range r.Blob {
		fmt.Fprintf(w, "  %s: %s", b.Name, b.Calls)
		if b.Armlet.Note != "" {
			fmt.Fprintf(w, "; armlet: %s", b.Armlet.Note)
		}
		if b.Azurite != nil && b.Azurite.Note != "" {
			fmt.Fprintf(w, "; azurite: %s", b.Azurite.Note)
		}
		fmt.Fprintln(w)
	}
	process := "not measured (no armlet.pid beside --target's connection.json)"
	for _, b := range r.Blob {
		if b.Memory != nil && b.Memory.Process != "" {
			process = b.Memory.Process
		}
	}
	fmt.Fprintf(w, "\nmemory around each blob scenario: %s; peaks sampled every 50 ms:\n", process)
	fmt.Fprintln(w, "scenario\theap before MB\theap peak MB\theap after MB\tRSS before MB\tRSS peak MB\tRSS after MB\tazurite RSS before MB\tazurite RSS after MB\t")
	for _, b := range r.Blob {
		m := b.Memory
		if m == nil {
			m = &BlobMemory{}
		}
		mb := func(f float64) string {
			if f == 0 {
				return "-"
			}
			return fmt.Sprintf("%.1f", f)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", b.Name, mb(m.HeapBeforeMB), mb(m.HeapPeakMB), mb(m.HeapAfterMB),
			mb(m.RSSBeforeMB), mb(m.RSSPeakMB), mb(m.RSSAfterMB), mb(m.AzuriteRSSBeforeMB), mb(m.AzuriteRSSAfterMB))
	}
}
