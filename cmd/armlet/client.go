package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/armlet/armlet/internal/app"
	"github.com/armlet/armlet/internal/config"
	"github.com/armlet/armlet/internal/netmodel"
	"github.com/armlet/armlet/internal/report"
)

// adminClient calls armlet's /_armlet/ API as the bootstrap principal,
// with what connection.json holds.
type adminClient struct {
	conn app.Connection
	http *http.Client
}

// clientFlags parses the --data-dir flag the client commands share, and
// the command's own flags added by extra, anywhere among args (so
// `armlet clock advance 61m --data-dir d` works as a user would type it).
// It checks the remaining positional arguments with positional (nil: none
// allowed) before it reads connection.json, so a usage error is reported
// as such whether armlet is running or not, and returns them.
func clientFlags(name string, args []string, getenv func(string) string, extra func(fs *flag.FlagSet), positional func(rest []string) error) (*adminClient, []string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned and printed once, by run
	dataDir := config.DefaultDataDir
	if v := getenv(config.EnvName("data-dir")); v != "" {
		dataDir = v
	}
	fs.StringVar(&dataDir, "data-dir", dataDir, "armlet data directory holding connection.json (env "+config.EnvName("data-dir")+")")
	if extra != nil {
		extra(fs)
	}
	var rest []string
	for remaining := args; ; {
		if err := fs.Parse(remaining); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(os.Stderr)
				fs.PrintDefaults()
				return nil, nil, err
			}
			var names []string
			fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
			return nil, nil, &config.UsageError{Err: err, Hint: config.FlagHint(fs, args, names)}
		}
		if fs.NArg() == 0 {
			break
		}
		if remaining = fs.Args(); remaining[0] == "--" {
			rest = append(rest, remaining[1:]...)
			break
		}
		rest, remaining = append(rest, remaining[0]), remaining[1:]
	}
	if positional == nil {
		positional = noArguments
	}
	if err := positional(rest); err != nil {
		return nil, nil, err
	}
	c, err := newAdminClient(dataDir)
	return c, rest, err
}

// noArguments refuses any positional argument.
func noArguments(rest []string) error {
	if len(rest) > 0 {
		return usageErr("unexpected argument %q", rest[0])
	}
	return nil
}

func newAdminClient(dataDir string) (*adminClient, error) {
	raw, err := os.ReadFile(filepath.Join(dataDir, app.ConnectionFile))
	if err != nil {
		return nil, fmt.Errorf("reading connection file (is armlet serving with --data-dir %s?): %w", dataDir, err)
	}
	var conn app.Connection
	if err := json.Unmarshal(raw, &conn); err != nil {
		return nil, fmt.Errorf("connection file: %w", err)
	}
	pem, err := os.ReadFile(conn.CACertificate)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA certificate %s holds no certificate", conn.CACertificate)
	}
	return &adminClient{conn: conn, http: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}}, nil
}

// base is where the client commands go: this replica's own listener when
// connection.json names one (armlet behind a load balancer), else the ARM
// endpoint, which is also the login endpoint.
func (c *adminClient) base() string {
	if c.conn.ReplicaEndpoint != "" {
		return strings.TrimSuffix(c.conn.ReplicaEndpoint, "/")
	}
	return strings.TrimSuffix(c.conn.ARMEndpoint, "/")
}

func (c *adminClient) token(ctx context.Context) (string, error) {
	form := url.Values{
		"grant_type": {"client_credentials"}, "client_id": {c.conn.ClientID},
		"client_secret": {c.conn.ClientSecret}, "scope": {c.conn.Audience + "/.default"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		c.base()+"/"+c.conn.TenantID+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", c.unreachable(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		return "", fmt.Errorf("getting a token: %s %s", resp.Status, out.Error)
	}
	return out.AccessToken, nil
}

// unreachable explains a failed connection: nothing listening at the
// endpoint connection.json names means armlet is not running there.
func (c *adminClient) unreachable(err error) error {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("armlet is not running at %s (start it with armlet serve): %w", c.base(), err)
	}
	return err
}

// call sends one admin request and writes the JSON answer to w.
func (c *adminClient) call(ctx context.Context, method, path string, body any, w io.Writer) error {
	raw, err := c.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, raw, "", "  ") == nil {
		raw = pretty.Bytes()
	}
	_, err = fmt.Fprintln(w, string(raw))
	return err
}

// send sends one admin request and returns the answer's body; a status of
// 300 or more is an error holding the body. A []byte body is sent as it
// is; any other is sent as JSON.
func (c *adminClient) send(ctx context.Context, method, path string, body any) ([]byte, error) {
	tok, err := c.token(ctx)
	if err != nil {
		return nil, err
	}
	var rd io.Reader
	if raw, ok := body.([]byte); ok {
		rd = bytes.NewReader(raw) // sent as it is (a file to import)
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base()+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.unreachable(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(raw)))
	}
	return raw, nil
}

func principal(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list" && args[0] != "delete") {
		return usageErr("usage: armlet principal create --name NAME | armlet principal list | armlet principal delete ID")
	}
	var name string
	c, rest, err := clientFlags("principal "+args[0], args[1:], getenv, func(fs *flag.FlagSet) {
		if args[0] == "create" {
			fs.StringVar(&name, "name", "", "display name of the new service principal")
		}
	}, func(rest []string) error {
		switch {
		case args[0] == "create" && name == "":
			return usageErr("--name is required")
		case args[0] == "delete" && len(rest) != 1:
			return usageErr("usage: armlet principal delete ID (the principal's object id or client id)")
		case args[0] == "delete":
			return nil
		}
		return noArguments(rest)
	})
	if err != nil {
		return err
	}
	switch args[0] {
	case "list":
		return c.call(ctx, http.MethodGet, "/_armlet/principals", nil, stdout)
	case "delete":
		return c.call(ctx, http.MethodDelete, "/_armlet/principals/"+url.PathEscape(rest[0]), nil, stdout)
	}
	return c.call(ctx, http.MethodPost, "/_armlet/principals", map[string]string{"name": name}, stdout)
}

// exportCmd is `armlet export [--file F] [--include-principals]`: the
// whole state as a seed file, to stdout or to F, which is written 0600
// (it holds secrets: datastore credentials, keys, principals' secret
// hashes).
func exportCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var file string
	var withPrincipals bool
	c, _, err := clientFlags("export", args, getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&file, "file", "", "write the state to this file (mode 0600) instead of stdout")
		fs.BoolVar(&withPrincipals, "include-principals", false, "export the service principals too (but the bootstrap one), with their secrets' hashes")
	}, nil)
	if err != nil {
		return err
	}
	path := "/_armlet/export"
	if withPrincipals {
		path += "?includePrincipals=true"
	}
	if file == "" {
		return c.call(ctx, http.MethodGet, path, nil, stdout)
	}
	raw, err := c.send(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	var seed app.Seed
	if err := json.Unmarshal(raw, &seed); err != nil {
		return fmt.Errorf("reading the export: %w", err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "", "  "); err != nil {
		return fmt.Errorf("reading the export: %w", err)
	}
	pretty.WriteByte('\n')
	if err := app.WriteFileAtomic(file, pretty.Bytes(), 0o600); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "exported %d subscriptions, %d resources and %d principals to %s (mode 0600: it holds secrets)\n",
		len(seed.Subscriptions), len(seed.Resources), len(seed.Principals), file)
	return err
}

// importCmd is `armlet import FILE`: a seed or export file applied to the
// running armlet (existing resources are skipped); prints what it
// created and skipped.
func importCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	c, rest, err := clientFlags("import", args, getenv, nil, func(rest []string) error {
		if len(rest) != 1 {
			return usageErr("usage: armlet import FILE (a file armlet export wrote, or a seed file)")
		}
		return nil
	})
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(rest[0])
	if err != nil {
		return fmt.Errorf("reading the file to import: %w", err)
	}
	return c.call(ctx, http.MethodPost, "/_armlet/import", raw, stdout)
}

// resetCmd is `armlet reset --yes`: every resource deleted. Without --yes
// it refuses (a usage error), saying what it would delete.
func resetCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var yes bool
	c, _, err := clientFlags("reset", args, getenv, func(fs *flag.FlagSet) {
		fs.BoolVar(&yes, "yes", false, "confirm: delete every resource")
	}, func(rest []string) error {
		if !yes {
			return &config.UsageError{
				Err:  errors.New("armlet reset deletes every resource (subscriptions but the default one, resource groups, workspaces and all in them, role and policy assignments and definitions) and keeps the principals, the CA, the signing key, the clock and the flow records; nothing is deleted without --yes"),
				Hint: "run 'armlet reset --yes' to delete them (armlet export --file F first keeps a copy)",
			}
		}
		return noArguments(rest)
	})
	if err != nil {
		return err
	}
	return c.call(ctx, http.MethodPost, "/_armlet/reset", map[string]bool{"confirm": true}, stdout)
}

func clockCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || (args[0] != "advance" && args[0] != "show") {
		return usageErr("usage: armlet clock advance DURATION | armlet clock show")
	}
	if args[0] == "advance" {
		for _, a := range args[1:] {
			if len(a) > 1 && a[0] == '-' && a[1] >= '0' && a[1] <= '9' {
				return usageErr("the armlet clock only moves forward: %q is negative; give a duration such as 45m", a)
			}
		}
	}
	if args[0] == "show" {
		c, _, err := clientFlags("clock show", args[1:], getenv, nil, nil)
		if err != nil {
			return err
		}
		return c.call(ctx, http.MethodGet, "/_armlet/clock", nil, stdout)
	}
	c, rest, err := clientFlags("clock advance", args[1:], getenv, nil, func(rest []string) error {
		if len(rest) != 1 {
			return usageErr("usage: armlet clock advance DURATION (for example 45m)")
		}
		if d, err := time.ParseDuration(rest[0]); err != nil || d < 0 {
			return usageErr("%q is not a duration such as 90s, 45m or 2h", rest[0])
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.call(ctx, http.MethodPost, "/_armlet/clock/advance", map[string]string{"duration": rest[0]}, stdout)
}

// stateCmd is `armlet state [--show-secrets] RESOURCE_ID`. Stored secrets
// (datastore secrets, connection credentials, keys) are printed as
// "[REDACTED]" unless --show-secrets is given, so the output can be pasted
// into an issue or a log.
//
// Choice: --show-secrets has no environment variable, like the other
// client flags but --data-dir, so a variable left set in a shell cannot
// turn redaction off unnoticed.
func stateCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var showSecrets bool
	c, rest, err := clientFlags("state", args, getenv, func(fs *flag.FlagSet) {
		fs.BoolVar(&showSecrets, "show-secrets", false, "print stored secrets in clear instead of [REDACTED]")
	}, func(rest []string) error {
		if len(rest) != 1 {
			return usageErr("usage: armlet state [--show-secrets] RESOURCE_ID")
		}
		return nil
	})
	if err != nil {
		return err
	}
	path := "/_armlet/state?id=" + url.QueryEscape(rest[0])
	if showSecrets {
		path += "&showSecrets=true"
	}
	return c.call(ctx, http.MethodGet, path, nil, stdout)
}

// fleetCmd is `armlet fleet`: this replica, the leader, the store.
func fleetCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	c, _, err := clientFlags("fleet", args, getenv, nil, nil)
	if err != nil {
		return err
	}
	return c.call(ctx, http.MethodGet, "/_armlet/fleet", nil, stdout)
}

// networkUsage is the usage of `armlet network`.
const networkUsage = "usage: armlet network endpoints [--json]\n" +
	"       armlet network vnets [--json]\n" +
	"       armlet network resolve HOST --vnet VIRTUAL_NETWORK_ID [--json]"

// networkCmd is `armlet network endpoints|vnets [--json]` and `armlet
// network resolve HOST --vnet ID [--json]`.
func networkCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageErr(networkUsage)
	}
	switch args[0] {
	case "endpoints":
		return networkList(ctx, "network endpoints", "/_armlet/network/endpoints", args[1:], getenv, stdout,
			func(raw []byte) error {
				var out struct {
					Value []netmodel.Listening `json:"value"`
				}
				if err := json.Unmarshal(raw, &out); err != nil {
					return fmt.Errorf("reading the endpoint list: %w", err)
				}
				return netmodel.WriteEndpointsTable(stdout, out.Value)
			})
	case "vnets":
		return networkList(ctx, "network vnets", "/_armlet/network/virtualNetworks", args[1:], getenv, stdout,
			func(raw []byte) error {
				var out struct {
					Value []netmodel.VNetProxy `json:"value"`
				}
				if err := json.Unmarshal(raw, &out); err != nil {
					return fmt.Errorf("reading the virtual network list: %w", err)
				}
				return netmodel.WriteVNetProxiesTable(stdout, out.Value)
			})
	case "resolve":
		var vnet string
		var host string
		path := func() string {
			return "/_armlet/network/resolve?host=" + url.QueryEscape(host) + "&virtualNetworkId=" + url.QueryEscape(vnet)
		}
		return networkCall(ctx, "network resolve", path, args[1:], getenv, stdout,
			func(fs *flag.FlagSet) {
				fs.StringVar(&vnet, "vnet", "", "the virtual network's resource id (required): resolve as a client inside it")
			},
			func(rest []string) error {
				if len(rest) != 1 {
					return usageErr("armlet network resolve takes one host name: %s", networkUsage)
				}
				host = rest[0]
				if vnet == "" {
					return usageErr("armlet network resolve needs --vnet VIRTUAL_NETWORK_ID (see armlet network vnets)")
				}
				return nil
			},
			func(raw []byte) error {
				var r netmodel.Resolution
				if err := json.Unmarshal(raw, &r); err != nil {
					return fmt.Errorf("reading the resolution: %w", err)
				}
				return netmodel.WriteResolution(stdout, r)
			})
	}
	return usageErr(networkUsage)
}

// networkList is a `armlet network` command that lists path, as JSON with
// --json, else through table.
func networkList(ctx context.Context, name, path string, args []string, getenv func(string) string, stdout io.Writer, table func([]byte) error) error {
	return networkCall(ctx, name, func() string { return path }, args, getenv, stdout, nil, nil, table)
}

// networkCall runs a `armlet network` command: its flags (with --json),
// its positional arguments, then a GET of path(), printed as JSON with
// --json, else by human.
func networkCall(ctx context.Context, name string, path func() string, args []string, getenv func(string) string, stdout io.Writer,
	extra func(*flag.FlagSet), positional func([]string) error, human func([]byte) error) error {
	var asJSON bool
	c, _, err := clientFlags(name, args, getenv, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON instead of text")
		if extra != nil {
			extra(fs)
		}
	}, positional)
	if err != nil {
		return err
	}
	if asJSON {
		return c.call(ctx, http.MethodGet, path(), nil, stdout)
	}
	raw, err := c.send(ctx, http.MethodGet, path(), nil)
	if err != nil {
		return err
	}
	return human(raw)
}

// reportCmd is `armlet report exposure [--json] [--workspace ID] [--since T] [--until T]`
// or `armlet report access [--json] [--principal ID|NAME] [--since T] [--denied-only]`.
func reportCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "access" {
		return accessReportCmd(ctx, args[1:], getenv, stdout)
	}
	if len(args) == 0 || args[0] != "exposure" {
		return usageErr("usage: armlet report exposure [--json] [--workspace RESOURCE_ID] [--since T] [--until T]\n" +
			"       armlet report access [--json] [--principal ID|NAME] [--since T] [--denied-only]")
	}
	var asJSON bool
	var workspace, since, until string
	c, _, err := clientFlags("report exposure", args[1:], getenv, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON instead of a table")
		fs.StringVar(&workspace, "workspace", "", "only this workspace (a resource id prefix)")
		fs.StringVar(&since, "since", "", "only flows at or after this time (RFC 3339, or a duration back from now such as 1h)")
		fs.StringVar(&until, "until", "", "only flows before this time (RFC 3339, or a duration back from now)")
	}, nil)
	if err != nil {
		return err
	}
	q := url.Values{}
	for k, v := range map[string]string{"workspace": workspace, "since": since, "until": until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return printReport(ctx, c, "/_armlet/reports/exposure", q, asJSON, &report.ExposureReport{}, stdout)
}

// tableWriter is a report that prints itself as a table.
type tableWriter interface {
	WriteTable(w io.Writer) error
}

// printReport GETs the admin report at path with query q and prints it
// as JSON (as served) or, decoded into rep, as a table.
func printReport(ctx context.Context, c *adminClient, path string, q url.Values, asJSON bool, rep tableWriter, stdout io.Writer) error {
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	if asJSON {
		return c.call(ctx, http.MethodGet, path, nil, stdout)
	}
	raw, err := c.send(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, rep); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return rep.WriteTable(stdout)
}

// accessReportCmd is `armlet report access [--json] [--principal ID|NAME] [--since T] [--denied-only]`.
func accessReportCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var asJSON, deniedOnly bool
	var principal, since string
	c, _, err := clientFlags("report access", args, getenv, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON instead of a table")
		fs.StringVar(&principal, "principal", "", "only this caller (object id, client id, or the name of a principal armlet made)")
		fs.StringVar(&since, "since", "", "only requests at or after this time (RFC 3339, or a duration back from now such as 1h)")
		fs.BoolVar(&deniedOnly, "denied-only", false, "only the denied requests")
	}, nil)
	if err != nil {
		return err
	}
	q := url.Values{}
	if principal != "" {
		q.Set("principal", principal)
	}
	if since != "" {
		q.Set("since", since)
	}
	if deniedOnly {
		q.Set("deniedOnly", "true")
	}
	return printReport(ctx, c, "/_armlet/reports/access", q, asJSON, &report.AccessReport{}, stdout)
}
