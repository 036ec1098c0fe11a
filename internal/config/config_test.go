package config

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	type tc struct {
		name    string
		args    []string
		env     map[string]string
		want    func(*Config) // applied to Default(); nil means Default()
		wantErr string        // substring of the error; empty means success
		help    bool          // want flag.ErrHelp and the full usage on stderr
	}
	cases := []tc{
		{name: "defaults"},
		{name: "empty env counts as unset", env: map[string]string{"ARMLET_LISTEN": "", "ARMLET_LOG_LEVEL": ""}},

		// Each flag.
		{name: "flag listen", args: []string{"--listen", "127.0.0.2:9443"}, want: func(c *Config) { c.Listen = "127.0.0.2:9443" }},
		{name: "flag listen single dash", args: []string{"-listen=localhost:0"}, want: func(c *Config) { c.Listen = "localhost:0" }},
		{name: "flag listen ipv6 any host", args: []string{"--listen=[::1]:65535"}, want: func(c *Config) { c.Listen = "[::1]:65535" }},
		{name: "flag listen empty host", args: []string{"--listen=:8443"}, want: func(c *Config) { c.Listen = ":8443" }},
		{name: "flag proxy-listen", args: []string{"--proxy-listen", "127.0.0.1:0"}, want: func(c *Config) { c.ProxyListen = "127.0.0.1:0" }},
		{name: "flag proxy-listen empty turns it off", args: []string{"--proxy-listen="}, want: func(c *Config) { c.ProxyListen = "" }},
		{name: "flag data-dir", args: []string{"--data-dir", "/tmp/x"}, want: func(c *Config) { c.DataDir = "/tmp/x" }},
		{name: "flag in-memory", args: []string{"--in-memory"}, want: func(c *Config) { c.InMemory = true }},
		{name: "flag in-memory=false", args: []string{"--in-memory=false"}},
		{name: "flag store memory", args: []string{"--store", "memory"}, want: func(c *Config) { c.Store = StoreMemory }},
		{name: "flag store memory with in-memory", args: []string{"--store=memory", "--in-memory"}, want: func(c *Config) { c.Store, c.InMemory = StoreMemory, true }},
		{name: "flag store etcd", args: []string{"--store", "etcd://127.0.0.1:2379"}, want: func(c *Config) { c.Store = "etcd://127.0.0.1:2379" }},
		{name: "flag store etcd cluster", args: []string{"--store=etcd://e1:2379,e2.example.com:2379,[::1]:2379"},
			want: func(c *Config) { c.Store = "etcd://e1:2379,e2.example.com:2379,[::1]:2379" }},
		{name: "env store", env: map[string]string{"ARMLET_STORE": "etcd://e1:2379"}, want: func(c *Config) { c.Store = "etcd://e1:2379" }},
		{name: "flag store overrides env", args: []string{"--store="}, env: map[string]string{"ARMLET_STORE": "etcd://e1:2379"}},
		{name: "etcd tls and auth flags", args: []string{"--store=etcd://e1:2379", "--etcd-ca", "ca.pem", "--etcd-cert", "c.pem", "--etcd-key", "k.pem",
			"--etcd-username", "armlet", "--etcd-password", "s3cret", "--etcd-prefix", "team-a/",
			"--replica-name", "r1", "--leader-lease", "2s", "--public-url", "https://armlet.example:9443/"},
			want: func(c *Config) {
				c.Store, c.EtcdCA, c.EtcdCert, c.EtcdKey = "etcd://e1:2379", "ca.pem", "c.pem", "k.pem"
				c.EtcdUsername, c.EtcdPassword, c.EtcdPrefix = "armlet", "s3cret", "team-a/"
				c.ReplicaName, c.LeaderLease, c.PublicURL = "r1", 2*time.Second, "https://armlet.example:9443"
			}},
		{name: "etcd env vars", env: map[string]string{"ARMLET_STORE": "etcd://e1:2379", "ARMLET_ETCD_CA": "ca.pem", "ARMLET_ETCD_CERT": "c.pem",
			"ARMLET_ETCD_KEY": "k.pem", "ARMLET_ETCD_USERNAME": "u", "ARMLET_ETCD_PASSWORD": "p", "ARMLET_ETCD_PREFIX": "x/"},
			want: func(c *Config) {
				c.Store, c.EtcdCA, c.EtcdCert, c.EtcdKey = "etcd://e1:2379", "ca.pem", "c.pem", "k.pem"
				c.EtcdUsername, c.EtcdPassword, c.EtcdPrefix = "u", "p", "x/"
			}},
		{name: "flag cert and key", args: []string{"--cert", "c.pem", "--key", "k.pem"}, want: func(c *Config) { c.CertFile, c.KeyFile = "c.pem", "k.pem" }},
		{name: "flag legacy-mode-propagation range", args: []string{"--legacy-mode-propagation", "5m-10m"},
			want: func(c *Config) { c.LegacyModePropagation = DurationRange{5 * time.Minute, 10 * time.Minute} }},
		{name: "flag legacy-mode-propagation spaced range", args: []string{"--legacy-mode-propagation", " 1h30m - 2h "},
			want: func(c *Config) { c.LegacyModePropagation = DurationRange{90 * time.Minute, 2 * time.Hour} }},
		{name: "flag legacy-mode-propagation fixed", args: []string{"--legacy-mode-propagation=45m"},
			want: func(c *Config) { c.LegacyModePropagation = DurationRange{45 * time.Minute, 45 * time.Minute} }},
		{name: "flag legacy-mode-propagation immediate", args: []string{"--legacy-mode-propagation=0"},
			want: func(c *Config) { c.LegacyModePropagation = DurationRange{} }},
		{name: "flag lenient-api-versions", args: []string{"--lenient-api-versions"}, want: func(c *Config) { c.LenientAPIVersions = true }},
		{name: "flag seed", args: []string{"--seed", "seed.json"}, want: func(c *Config) { c.SeedFile = "seed.json" }},
		{name: "flag random-seed", args: []string{"--random-seed", "-42"}, want: func(c *Config) { c.RandomSeed = -42 }},
		{name: "flag log-level", args: []string{"--log-level", "DEBUG"}, want: func(c *Config) { c.LogLevel = slog.LevelDebug }},
		{name: "flag log-level warn", args: []string{"--log-level=warn"}, want: func(c *Config) { c.LogLevel = slog.LevelWarn }},
		{name: "flag log-level error", args: []string{"--log-level=Error"}, want: func(c *Config) { c.LogLevel = slog.LevelError }},
		{name: "flag log-format", args: []string{"--log-format", "JSON"}, want: func(c *Config) { c.LogFormat = "json" }},
		{name: "flag token-lifetime", args: []string{"--token-lifetime", "5m"}, want: func(c *Config) { c.TokenLifetime = 5 * time.Minute }},
		{name: "flag token-lifetime max", args: []string{"--token-lifetime", "24h"}, want: func(c *Config) { c.TokenLifetime = 24 * time.Hour }},
		{name: "flag max-body-bytes", args: []string{"--max-body-bytes", "1024"}, want: func(c *Config) { c.MaxBodyBytes = 1024 }},
		{name: "flag operation-duration", args: []string{"--operation-duration", "0"}, want: func(c *Config) { c.OperationDuration = 0 }},
		{name: "env operation-duration", env: map[string]string{"ARMLET_OPERATION_DURATION": "5s"}, want: func(c *Config) { c.OperationDuration = 5 * time.Second }},
		{name: "flag shutdown-timeout", args: []string{"--shutdown-timeout", "1m30s"}, want: func(c *Config) { c.ShutdownTimeout = 90 * time.Second }},
		{name: "flag flow-retention", args: []string{"--flow-retention", "2h"}, want: func(c *Config) { c.FlowRetention = 2 * time.Hour }},
		{name: "flag flow-retention min", args: []string{"--flow-retention=1m"}, want: func(c *Config) { c.FlowRetention = time.Minute }},
		{name: "flag flow-retention-records", args: []string{"--flow-retention-records", "500"}, want: func(c *Config) { c.FlowRetentionRecords = 500 }},
		{name: "flag read-header-timeout", args: []string{"--read-header-timeout", "2s"}, want: func(c *Config) { c.ReadHeaderTimeout = 2 * time.Second }},
		{name: "flag max-connections", args: []string{"--max-connections=100"}, want: func(c *Config) { c.MaxConnections = 100 }},
		{name: "env idle-timeout", env: map[string]string{"ARMLET_IDLE_TIMEOUT": "5s"}, want: func(c *Config) { c.IdleTimeout = 5 * time.Second }},
		{name: "env read-timeout", env: map[string]string{"ARMLET_READ_TIMEOUT": "3s"}, want: func(c *Config) { c.ReadTimeout = 3 * time.Second }},
		{name: "flag flow-retention-records min", args: []string{"--flow-retention-records=1"}, want: func(c *Config) { c.FlowRetentionRecords = 1 }},

		// Each environment variable.
		{name: "env listen", env: map[string]string{"ARMLET_LISTEN": "127.0.0.1:0"}, want: func(c *Config) { c.Listen = "127.0.0.1:0" }},
		{name: "env data-dir", env: map[string]string{"ARMLET_DATA_DIR": "state"}, want: func(c *Config) { c.DataDir = "state" }},
		{name: "env in-memory", env: map[string]string{"ARMLET_IN_MEMORY": "1"}, want: func(c *Config) { c.InMemory = true }},
		{name: "env cert and key", env: map[string]string{"ARMLET_CERT": "c.pem", "ARMLET_KEY": "k.pem"}, want: func(c *Config) { c.CertFile, c.KeyFile = "c.pem", "k.pem" }},
		{name: "env legacy-mode-propagation", env: map[string]string{"ARMLET_LEGACY_MODE_PROPAGATION": "0"},
			want: func(c *Config) { c.LegacyModePropagation = DurationRange{} }},
		{name: "env lenient-api-versions", env: map[string]string{"ARMLET_LENIENT_API_VERSIONS": "true"}, want: func(c *Config) { c.LenientAPIVersions = true }},
		{name: "env rbac", env: map[string]string{"ARMLET_RBAC": "Audit"}, want: func(c *Config) { c.RBAC = RBACAudit }},
		{name: "flag rbac", args: []string{"--rbac", "audit"}, want: func(c *Config) { c.RBAC = RBACAudit }},
		{name: "env seed", env: map[string]string{"ARMLET_SEED": "/seed.json"}, want: func(c *Config) { c.SeedFile = "/seed.json" }},
		{name: "env random-seed", env: map[string]string{"ARMLET_RANDOM_SEED": "7"}, want: func(c *Config) { c.RandomSeed = 7 }},
		{name: "env log-level", env: map[string]string{"ARMLET_LOG_LEVEL": "error"}, want: func(c *Config) { c.LogLevel = slog.LevelError }},
		{name: "env log-format", env: map[string]string{"ARMLET_LOG_FORMAT": "json"}, want: func(c *Config) { c.LogFormat = "json" }},
		{name: "env token-lifetime", env: map[string]string{"ARMLET_TOKEN_LIFETIME": "2h"}, want: func(c *Config) { c.TokenLifetime = 2 * time.Hour }},
		{name: "env max-body-bytes", env: map[string]string{"ARMLET_MAX_BODY_BYTES": "2048"}, want: func(c *Config) { c.MaxBodyBytes = 2048 }},
		{name: "env shutdown-timeout", env: map[string]string{"ARMLET_SHUTDOWN_TIMEOUT": "3s"}, want: func(c *Config) { c.ShutdownTimeout = 3 * time.Second }},
		{name: "env flow-retention", env: map[string]string{"ARMLET_FLOW_RETENTION": "90m"}, want: func(c *Config) { c.FlowRetention = 90 * time.Minute }},
		{name: "env flow-retention-records", env: map[string]string{"ARMLET_FLOW_RETENTION_RECORDS": "42"}, want: func(c *Config) { c.FlowRetentionRecords = 42 }},
		{name: "flag overrides env flow-retention", args: []string{"--flow-retention=3h"}, env: map[string]string{"ARMLET_FLOW_RETENTION": "1h"},
			want: func(c *Config) { c.FlowRetention = 3 * time.Hour }},

		// Flag over environment.
		{name: "flag overrides env listen", args: []string{"--listen=127.0.0.3:1"}, env: map[string]string{"ARMLET_LISTEN": "127.0.0.4:2"},
			want: func(c *Config) { c.Listen = "127.0.0.3:1" }},
		{name: "flag overrides env bool", args: []string{"--in-memory=false"}, env: map[string]string{"ARMLET_IN_MEMORY": "true"}},
		{name: "flag overrides env range", args: []string{"--legacy-mode-propagation=1m"}, env: map[string]string{"ARMLET_LEGACY_MODE_PROPAGATION": "2m-3m"},
			want: func(c *Config) { c.LegacyModePropagation = DurationRange{time.Minute, time.Minute} }},
		{name: "flag overrides bad env is still an error", args: []string{"--log-level=info"}, env: map[string]string{"ARMLET_LOG_LEVEL": "loud"},
			wantErr: "ARMLET_LOG_LEVEL"},
		{name: "flag and env mixed cert key", args: []string{"--cert=a.pem"}, env: map[string]string{"ARMLET_KEY": "b.pem"},
			want: func(c *Config) { c.CertFile, c.KeyFile = "a.pem", "b.pem" }},

		// Other errors.
		{name: "cert without key", args: []string{"--cert", "c.pem"}, wantErr: "--cert and --key"},
		{name: "key without cert env", env: map[string]string{"ARMLET_KEY": "k.pem"}, wantErr: "ARMLET_CERT and ARMLET_KEY"},
		{name: "in-memory with etcd", args: []string{"--in-memory", "--store=etcd://e1:2379"}, wantErr: "conflict"},
		{name: "etcd flag without etcd store", args: []string{"--etcd-username=u"}, wantErr: "--etcd-username (ARMLET_ETCD_USERNAME) needs --store etcd://"},
		{name: "etcd ca with memory store", args: []string{"--store=memory", "--etcd-ca=ca.pem"}, wantErr: "--etcd-ca"},
		{name: "etcd cert without key", args: []string{"--store=etcd://e1:2379", "--etcd-cert=c.pem"}, wantErr: "--etcd-cert and --etcd-key"},
		{name: "etcd password without username", env: map[string]string{"ARMLET_STORE": "etcd://e1:2379", "ARMLET_ETCD_PASSWORD": "p"}, wantErr: "needs --etcd-username"},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "flag provided but not defined: -nope"},
		{name: "positional argument", args: []string{"--in-memory", "extra"}, wantErr: `unexpected argument "extra"`},
		{name: "missing flag value", args: []string{"--listen"}, wantErr: "flag needs an argument: -listen"},

		// Help.
		{name: "help -h", args: []string{"-h"}, help: true},
		{name: "help --help", args: []string{"--help"}, help: true},
		{name: "help after flags", args: []string{"--in-memory", "-help"}, help: true},
	}

	// Bad values for every typed flag, each given as a flag and as an
	// environment variable.
	bad := []struct{ flag, value, want string }{
		{"listen", "127.0.0.1", "missing port"},
		{"listen", "127.0.0.1:65536", "out of range"},
		{"listen", "127.0.0.1:https", "not a number"},
		{"listen", "127.0.0.1:-1", "not a number"},
		{"listen", "bad host!:80", "neither an IP address nor a host name"},
		{"proxy-listen", "127.0.0.1", "missing port"},
		{"data-dir", " ", "must not be empty"},
		{"in-memory", "maybe", "maybe"},
		{"store", "bbolt", "is not empty (bbolt)"},
		{"store", "http://e1:2379", "is not empty (bbolt)"},
		{"store", "etcd://", "names no etcd endpoint"},
		{"store", "etcd://e1", "not host:port"},
		{"store", "etcd://e1:2379,", "not host:port"},
		{"store", "etcd://:2379", "not host:port"},
		{"store", "etcd://e1:http", "not a number"},
		{"store", "etcd://e1:0", "not a number"},
		{"etcd-prefix", " ", "must end with /"},
		{"etcd-prefix", "team-a", "must end with /"},
		{"leader-lease", "1500ms", "not a whole number of seconds"},
		{"public-url", "http://lb:8443", "not an https://host[:port] URL"},
		{"public-url", "https://lb:8443/arm", "not an https://host[:port] URL"},
		{"public-url", "lb:8443", "not an https://host[:port] URL"},
		{"leader-lease", "0s", "less than"},
		{"leader-lease", "2m", "more than"},
		{"legacy-mode-propagation", "soon", `"soon" is not a duration`},
		{"legacy-mode-propagation", "60m-30m", "minimum 1h is more than maximum 30m"},
		{"legacy-mode-propagation", "-5m", "negative"},
		{"legacy-mode-propagation", "5m--1m", "negative"},
		{"legacy-mode-propagation", "5m-", `"" is not a duration`},
		{"lenient-api-versions", "sometimes", "sometimes"},
		{"random-seed", "1.5", "not an integer"},
		{"random-seed", "99999999999999999999", "not an integer"},
		{"log-level", "verbose", "not one of debug, info, warn, error"},
		{"log-format", "xml", "not one of text, json"},
		{"rbac", "off", "not one of enforce, audit"},
		{"token-lifetime", "9s", "less than the minimum 10s"},
		{"token-lifetime", "25h", "more than the maximum 24h"},
		{"token-lifetime", "1 hour", "not a duration"},
		{"max-body-bytes", "1023", "less than the minimum 1024"},
		{"max-body-bytes", "4MB", "not an integer"},
		{"operation-duration", "-1s", "less than the minimum"},
		{"operation-duration", "11m", "more than"},
		{"operation-duration", "soon", "not a duration"},
		{"shutdown-timeout", "0", "not positive"},
		{"shutdown-timeout", "-1s", "not positive"},
		{"shutdown-timeout", "ten", "not a duration"},
		{"flow-retention", "59s", "less than the minimum 1m"},
		{"flow-retention", "0", "less than the minimum 1m"},
		{"flow-retention", "a day", "not a duration"},
		{"flow-retention-records", "0", "less than the minimum 1"},
		{"max-connections", "0", "less than the minimum 1"},
		{"read-header-timeout", "0", "not positive"},
		{"flow-retention-records", "1e5", "not an integer"},
	}
	for _, b := range bad {
		cases = append(cases,
			tc{name: "bad flag " + b.flag + "=" + b.value, args: []string{"--" + b.flag + "=" + b.value},
				wantErr: "-" + b.flag},
			tc{name: "bad flag detail " + b.flag + "=" + b.value, args: []string{"--" + b.flag + "=" + b.value},
				wantErr: b.want},
			tc{name: "bad env " + b.flag + "=" + b.value, env: map[string]string{EnvName(b.flag): b.value},
				wantErr: "environment variable " + EnvName(b.flag) + ": "},
			tc{name: "bad env detail " + b.flag + "=" + b.value, env: map[string]string{EnvName(b.flag): b.value},
				wantErr: b.want},
		)
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			getenv := func(k string) string { return c.env[k] }
			got, err := Parse(c.args, getenv, &stderr)

			if c.help {
				if !errors.Is(err, flag.ErrHelp) {
					t.Fatalf("err = %v, want flag.ErrHelp", err)
				}
				usage := stderr.String()
				for _, o := range options(new(Config)) {
					for _, s := range []string{"--" + o.name, EnvName(o.name)} {
						if !strings.Contains(usage, s) {
							t.Errorf("usage lacks %q:\n%s", s, usage)
						}
					}
				}
				for _, s := range []string{"default 127.0.0.1:8443", "default .armlet", "default 30m-1h", "default info",
					"default text", "default 1h", "default 4194304", "default 10s", "default 24h", "default 100000", "default false", "default 0", "default none"} {
					if !strings.Contains(usage, s) {
						t.Errorf("usage lacks %q:\n%s", s, usage)
					}
				}
				return
			}
			if stderr.Len() != 0 {
				t.Errorf("unexpected output on stderr: %q", stderr.String())
			}
			if c.wantErr != "" {
				if err == nil {
					t.Fatalf("err = nil, want one containing %q (config %+v)", c.wantErr, got)
				}
				if !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %q, want it to contain %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			want := Default()
			if c.want != nil {
				c.want(&want)
			}
			if got != want {
				t.Fatalf("config:\n got %+v\nwant %+v", got, want)
			}

			// Summary names every setting once, and reads back as flags
			// to the same config (this also round-trips DurationRange.String).
			summary := got.Summary()
			if n := len(options(new(Config))); len(summary) != n {
				t.Fatalf("Summary has %d lines, want %d: %q", len(summary), n, summary)
			}
			var args []string
			for _, line := range summary {
				if !strings.Contains(line, "=") {
					t.Fatalf("Summary line %q is not name=value", line)
				}
				args = append(args, "--"+line)
			}
			again, err := Parse(args, nil, &stderr)
			if err != nil {
				t.Fatalf("Parse(Summary) = %v (summary %q)", err, summary)
			}
			// The summary hides the etcd password.
			if got.EtcdPassword != "" {
				if slices.Contains(summary, "etcd-password="+got.EtcdPassword) || !slices.Contains(summary, "etcd-password=(set)") {
					t.Errorf("Summary shows the etcd password: %q", summary)
				}
				again.EtcdPassword = got.EtcdPassword
			}
			if again != got {
				t.Fatalf("Parse(Summary):\n got %+v\nwant %+v", again, got)
			}
			if c.name == "defaults" {
				wantLines := []string{"listen=127.0.0.1:8443", "proxy-listen=127.0.0.1:8444", "data-dir=.armlet", "in-memory=false",
					"store=", "etcd-ca=", "etcd-cert=", "etcd-key=", "etcd-username=", "etcd-password=", "etcd-prefix=armlet/",
					"public-url=", "replica-name=", "leader-lease=5s", "cert=", "key=",
					"legacy-mode-propagation=30m-1h", "lenient-api-versions=false", "seed=", "random-seed=0",
					"log-level=info", "log-format=text", "token-lifetime=1h", "max-body-bytes=4194304", "render-cache-mb=64", "operation-duration=1s", "shutdown-timeout=10s",
					"flow-retention=24h", "flow-retention-records=100000",
					"read-header-timeout=10s", "read-timeout=1m", "idle-timeout=2m", "max-connections=16384", "rbac=enforce"}
				if strings.Join(summary, " ") != strings.Join(wantLines, " ") {
					t.Fatalf("Summary = %q\nwant      %q", summary, wantLines)
				}
			}
		})
	}
}

func TestStoreSelection(t *testing.T) {
	tests := []struct {
		store     string
		inMemory  bool
		memory    bool
		endpoints []string
	}{
		{"", false, false, nil},
		{"", true, true, nil},
		{StoreMemory, false, true, nil},
		{"etcd://e1:2379", false, false, []string{"e1:2379"}},
		{"etcd://e1:2379,10.0.0.2:2379", false, false, []string{"e1:2379", "10.0.0.2:2379"}},
	}
	for _, tc := range tests {
		c := Default()
		c.Store, c.InMemory = tc.store, tc.inMemory
		if got := c.MemoryStore(); got != tc.memory {
			t.Errorf("Store %q InMemory %v: MemoryStore() = %v, want %v", tc.store, tc.inMemory, got, tc.memory)
		}
		if got := c.EtcdEndpoints(); !slices.Equal(got, tc.endpoints) {
			t.Errorf("Store %q: EtcdEndpoints() = %q, want %q", tc.store, got, tc.endpoints)
		}
	}
}

func TestNearest(t *testing.T) {
	words := []string{"listen", "data-dir", "log-level", "log-format", "serve", "state"}
	tests := []struct{ w, want string }{
		{"lisen", "listen"},
		{"LISTEN", "listen"},
		{"dta-dir", "data-dir"},
		{"serv", "serve"},
		{"log-levle", "log-level"},
		{"frobnicate", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		if got := Nearest(tt.w, words); got != tt.want {
			t.Errorf("Nearest(%q) = %q, want %q", tt.w, got, tt.want)
		}
	}
}

func TestParseUsageErrors(t *testing.T) {
	tests := []struct {
		args     []string
		wantHint string
	}{
		{[]string{"--lisen", ":1"}, "did you mean --listen?"},
		{[]string{"--bogus"}, ""},
		{[]string{"stray"}, ""},
		{[]string{"--listen", "nowhere"}, ""},
	}
	for _, tt := range tests {
		_, err := Parse(tt.args, func(string) string { return "" }, io.Discard)
		var ue *UsageError
		if !errors.As(err, &ue) || ue.Hint != tt.wantHint {
			t.Errorf("Parse(%q) = %v, want a UsageError with hint %q", tt.args, err, tt.wantHint)
		}
	}
}
