package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Protocol is how every target is driven: the same client for armlet, the
// bare server and Azurite.
//
// Choice: HTTP/1.1 with keep-alive, not HTTP/2, because that is what the
// Azure SDKs and the Azure CLI (Python requests) use against ARM; one TCP
// connection per concurrent client.
const Protocol = "HTTP/1.1 keep-alive over TLS (one connection per concurrent client)"

// Stats is one scenario's result.
type Stats struct {
	Name     string  `json:"name"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"requestsPerSecond"`
	P50Ms    float64 `json:"p50Ms"`
	P99Ms    float64 `json:"p99Ms"`
	MaxMs    float64 `json:"maxMs"`
	// MiBPerSecond is the payload moved per second (blob scenarios).
	MiBPerSecond float64 `json:"mibPerSecond,omitempty"`
	// Note qualifies the figures (what one request is, the first error).
	Note string `json:"note,omitempty"`
}

// newClient is the benchmark client: HTTP/1.1 only (no ALPN h2), up to
// conns connections kept alive to one host.
func newClient(pool *x509.CertPool, conns int) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{}, // HTTP/1.1 only
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     2 * time.Minute,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// target is an HTTPS endpoint with a bearer token.
type target struct {
	base   string // https://host:port, no trailing slash
	client *http.Client
	token  string
	// rotate, when not empty, are the base URLs (base first) of replicas
	// sharing one store: each request with a path goes to the next one.
	rotate []string
	next   atomic.Uint64
}

// baseURL is where the next request with a path goes.
func (t *target) baseURL() string {
	if len(t.rotate) == 0 {
		return t.base
	}
	return t.rotate[(t.next.Add(1)-1)%uint64(len(t.rotate))]
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request; the body is read whole (as real clients do).
func (t *target) do(ctx context.Context, method, pathOrURL string, body []byte, hdr map[string]string) (reply, error) {
	u := pathOrURL
	if !strings.HasPrefix(u, "https://") {
		u = t.baseURL() + pathOrURL
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return reply{}, err
	}
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{resp.StatusCode, resp.Header, b}, nil
}

// expect turns an unexpected status into an error.
func (r reply) expect(statuses ...int) error {
	if slices.Contains(statuses, r.status) {
		return nil
	}
	b := r.body
	if len(b) > 200 {
		b = b[:200]
	}
	return fmt.Errorf("status %d: %s", r.status, bytes.TrimSpace(b))
}

func (r reply) json(v any) error { return json.Unmarshal(r.body, v) }

// worker runs requests for one connection; it is called again and again
// until the time is up. It returns how many requests it made (0 counts as
// 1) so a scenario can measure several requests as one unit; errors are
// failures of the request.
type worker func(ctx context.Context, w int, rnd *rand.Rand) error

// drive runs conns workers for d after a short unmeasured warm-up (which
// opens the connections) and returns latency statistics.
func drive(ctx context.Context, name string, conns int, d time.Duration, fn worker) Stats {
	warm := min(d/5, 300*time.Millisecond)
	var (
		mu       sync.Mutex
		all      []time.Duration
		errs     atomic.Int64
		firstErr atomic.Value
	)
	start := time.Now()
	measureFrom := start.Add(warm)
	end := measureFrom.Add(d)
	var wg sync.WaitGroup
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w)+1, 0x5eed))
			lat := make([]time.Duration, 0, 1024)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(end) {
					break
				}
				err := fn(ctx, w, rnd)
				el := time.Since(t0)
				if t0.Before(measureFrom) {
					continue
				}
				if err != nil {
					if errs.Add(1) == 1 {
						firstErr.Store(err.Error())
					}
					continue
				}
				lat = append(lat, el)
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(measureFrom)
	s := summarize(name, all, elapsed)
	s.Errors = errs.Load()
	if e, ok := firstErr.Load().(string); ok {
		s.Note = "first error: " + e
	}
	return s
}

// driveEach calls fn once for each of 0..n-1, spread over conns workers,
// all measured (no warm-up): a pass whose every request is a first.
func driveEach(ctx context.Context, name string, conns, n int, fn func(ctx context.Context, i int) error) Stats {
	var (
		mu       sync.Mutex
		all      []time.Duration
		next     atomic.Int64
		errs     atomic.Int64
		firstErr atomic.Value
	)
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			var lat []time.Duration
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					break
				}
				t0 := time.Now()
				if err := fn(ctx, i); err != nil {
					if errs.Add(1) == 1 {
						firstErr.Store(err.Error())
					}
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	s := summarize(name, all, time.Since(start))
	s.Errors = errs.Load()
	if e, ok := firstErr.Load().(string); ok {
		s.Note = "first error: " + e
	}
	return s
}

func summarize(name string, lat []time.Duration, elapsed time.Duration) Stats {
	slices.Sort(lat)
	s := Stats{Name: name, Requests: int64(len(lat)), Seconds: round(elapsed.Seconds(), 2)}
	if elapsed > 0 {
		s.RPS = round(float64(len(lat))/elapsed.Seconds(), 0)
	}
	if len(lat) > 0 {
		s.P50Ms = ms(lat[(len(lat)-1)*50/100])
		s.P99Ms = ms(lat[int(math.Ceil(float64(len(lat))*0.99))-1])
		s.MaxMs = ms(lat[len(lat)-1])
	}
	return s
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 2) }

func round(f float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(f*p) / p
}

// ratio is a/b rounded, 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return round(a/b, 2)
}
