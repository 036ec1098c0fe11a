// Package config parses the settings of `armlet serve` from command-line
// flags and ARMLET_* environment variables.
//
// Every flag --some-name can also be set by the environment variable
// ARMLET_SOME_NAME. A flag wins over its environment variable, which wins
// over the default. An empty environment variable counts as unset.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix is the prefix of every environment variable armlet serve reads.
const EnvPrefix = "ARMLET_"

// Defaults and limits.
const (
	DefaultListen          = "127.0.0.1:8443"
	DefaultProxyListen     = "127.0.0.1:8444"
	DefaultDataDir         = ".armlet"
	DefaultLogFormat       = "text"
	DefaultTokenLifetime   = time.Hour
	MinTokenLifetime       = 10 * time.Second
	MaxTokenLifetime       = 24 * time.Hour
	DefaultShutdownTimeout = 10 * time.Second
	// DefaultOperationDuration is how long long-running operations take.
	DefaultOperationDuration = time.Second
	// DefaultFlowRetention and DefaultFlowRetentionRecords bound the flow
	// records kept: the older or the more beyond these are deleted.
	DefaultFlowRetention        = 24 * time.Hour
	DefaultFlowRetentionRecords = 100000
	MinFlowRetention            = time.Minute
	// Connection timeouts and limits of every listener.
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxConnections    = 16384
)

// Request body limits. DefaultMaxBodyBytes is ARM's own: Azure Resource
// Manager refuses request bodies over 4 MB (a template deployment's
// included), so no ARM client sends more. It bounds the bytes armlet
// reads per request, artifact contents uploaded to a workspace (which are
// not JSON) included; what a JSON body may make armlet hold once decoded
// is bounded apart from its size, by the front door's structural limits
// (package jsonbody: nesting depth and number of values).
const (
	DefaultMaxBodyBytes = 4 << 20 // 4 MiB
	MinMaxBodyBytes     = 1024
	// DefaultRenderCacheMB is the default --render-cache-mb: some 50,000
	// workspace bodies at one api-version.
	DefaultRenderCacheMB = 64
)

// DefaultLegacyModePropagation is the default delay range for a
// v1LegacyMode true->false change to take effect: 30 to 60 minutes.
var DefaultLegacyModePropagation = DurationRange{Min: 30 * time.Minute, Max: 60 * time.Minute}

// Config holds the settings of `armlet serve`. The zero value is not
// useful; start from Default or Parse.
type Config struct {
	// ProxyListen is the host:port of the HTTPS proxy (--proxy-listen)
	// through which clients reach Azure's own host names that armlet
	// serves; empty turns it off.
	ProxyListen string
	// Listen is the host:port of the main HTTPS listener (--listen).
	// An empty host means all interfaces; port 0 picks a free port.
	Listen string

	// DataDir is the directory holding the bbolt store, the local CA and
	// connection.json (--data-dir). It is as given, possibly relative to
	// the working directory; never empty.
	DataDir string

	// InMemory keeps resource state in memory instead of bbolt
	// (--in-memory). DataDir still holds certificates and connection.json.
	InMemory bool

	// Store selects the store backend (--store): empty for bbolt in DataDir,
	// StoreMemory for an in-memory store (like InMemory), or
	// "etcd://host:port[,host:port...]" for an etcd cluster (see
	// EtcdEndpoints). Parse refuses --in-memory with an etcd store.
	Store string

	// Etcd* configure the connection to etcd when Store is etcd://: a PEM CA
	// file to verify the servers (--etcd-ca), a PEM client certificate and
	// key (--etcd-cert, --etcd-key, both or neither), credentials
	// (--etcd-username, --etcd-password) and the prefix of every key armlet
	// writes (--etcd-prefix, default DefaultEtcdPrefix), so that several
	// armlets or other users can share a cluster.
	EtcdCA, EtcdCert, EtcdKey  string
	EtcdUsername, EtcdPassword string
	EtcdPrefix                 string

	// PublicURL is the https:// URL clients reach armlet at (--public-url),
	// when it is not the listener's own address: a load balancer in front
	// of replicas, a DNS name. Token discovery documents, token audiences,
	// challenges and connection.json name it. Empty means the listener's
	// address.
	PublicURL string

	// ReplicaName names this armlet among the replicas sharing an etcd
	// store (--replica-name), in logs, the leader election and
	// /_armlet/fleet. Empty means "hostname:port" of the listener.
	ReplicaName string

	// LeaderLease is the TTL of the etcd lease behind the leader election
	// (--leader-lease): how long a replica that died may keep the lead
	// before another one takes over the time-driven work. Whole seconds.
	LeaderLease time.Duration

	// CertFile and KeyFile are PEM files of a user-supplied server
	// certificate and key (--cert, --key). Both are set or both are empty;
	// when empty, armlet issues certificates from its own local CA.
	CertFile string
	KeyFile  string

	// LegacyModePropagation is how long a v1LegacyMode true->false change
	// takes to propagate (--legacy-mode-propagation): a delay drawn
	// uniformly from [Min, Max]. Min == Max is a fixed delay; zero is
	// immediate.
	LegacyModePropagation DurationRange

	// LenientAPIVersions accepts api-version values the emulator does not
	// know instead of rejecting them (--lenient-api-versions).
	LenientAPIVersions bool

	// SeedFile is the path of a file of pre-existing resources to import at
	// start (--seed); empty means none. Parse does not open it.
	SeedFile string

	// RandomSeed seeds armlet's random choices, such as propagation delays
	// (--random-seed). Zero means seed randomly; any other value makes the
	// choices repeatable.
	RandomSeed int64

	// LogLevel is the minimum level logged (--log-level: debug, info, warn
	// or error).
	LogLevel slog.Level

	// LogFormat is the log handler: "text" or "json" (--log-format).
	LogFormat string

	// TokenLifetime is the lifetime of issued access tokens
	// (--token-lifetime), between MinTokenLifetime and MaxTokenLifetime.
	TokenLifetime time.Duration

	// MaxBodyBytes caps the size of a request body (--max-body-bytes), at
	// least MinMaxBodyBytes.
	MaxBodyBytes int64

	// RenderCacheMB bounds the rendered-body cache that answers GETs
	// without loading and rendering (--render-cache-mb), in MiB; 0 turns
	// it off.
	RenderCacheMB int64

	// OperationDuration is how long long-running operations (workspace
	// create and delete, resource group delete, ...) take on the armlet
	// clock (--operation-duration), between 0 and 10m.
	OperationDuration time.Duration

	// ShutdownTimeout is how long a graceful shutdown waits for in-flight
	// requests before closing connections (--shutdown-timeout); positive.
	ShutdownTimeout time.Duration

	// FlowRetention is how long flow records are kept, on the armlet clock
	// (--flow-retention), at least MinFlowRetention.
	FlowRetention time.Duration

	// FlowRetentionRecords is how many flow records are kept at most
	// (--flow-retention-records), at least 1; the oldest go first.
	FlowRetentionRecords int64

	// ReadHeaderTimeout bounds the TLS handshake and the reading of a
	// request's headers (--read-header-timeout); a client slower than this
	// (slowloris) is disconnected.
	ReadHeaderTimeout time.Duration

	// ReadTimeout bounds the reading of a whole request, body included
	// (--read-timeout); a body that never ends is cut off.
	ReadTimeout time.Duration

	// IdleTimeout is how long a keep-alive connection may wait for its next
	// request (--idle-timeout).
	IdleTimeout time.Duration

	// MaxConnections is how many connections all listeners together hold
	// open at most (--max-connections, at least 1); connections beyond it
	// are closed at once, before the TLS handshake, so that armlet never
	// runs out of file descriptors.
	MaxConnections int64
	// RBAC is how Azure RBAC decisions apply to ARM requests (--rbac):
	// RBACEnforce refuses what no role assignment allows; RBACAudit logs and
	// records the denials but lets the requests through.
	RBAC string
}

// Store backends (Config.Store) and etcd defaults.
const (
	StoreMemory       = "memory"
	StoreEtcdScheme   = "etcd://"
	DefaultEtcdPrefix = "armlet/"
	// DefaultLeaderLease is the default of --leader-lease.
	DefaultLeaderLease = 5 * time.Second
)

// RBAC modes.
const (
	RBACEnforce = "enforce"
	RBACAudit   = "audit"
)

// Default returns the settings used when no flag or environment variable
// is given.
func Default() Config {
	return Config{
		Listen:                DefaultListen,
		ProxyListen:           DefaultProxyListen,
		DataDir:               DefaultDataDir,
		LegacyModePropagation: DefaultLegacyModePropagation,
		LogLevel:              slog.LevelInfo,
		LogFormat:             DefaultLogFormat,
		RBAC:                  RBACEnforce,
		EtcdPrefix:            DefaultEtcdPrefix,
		LeaderLease:           DefaultLeaderLease,
		TokenLifetime:         DefaultTokenLifetime,
		MaxBodyBytes:          DefaultMaxBodyBytes,
		RenderCacheMB:         DefaultRenderCacheMB,
		ShutdownTimeout:       DefaultShutdownTimeout,
		OperationDuration:     DefaultOperationDuration,
		FlowRetention:         DefaultFlowRetention,
		FlowRetentionRecords:  DefaultFlowRetentionRecords,
		ReadHeaderTimeout:     DefaultReadHeaderTimeout,
		ReadTimeout:           DefaultReadTimeout,
		IdleTimeout:           DefaultIdleTimeout,
		MaxConnections:        DefaultMaxConnections,
	}
}

// EnvName returns the environment variable for a flag name:
// "data-dir" -> "ARMLET_DATA_DIR".
func EnvName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse reads the settings of `armlet serve` from args (the arguments after
// "serve") and from environment variables looked up with getenv (nil means
// none). Precedence is flag, then environment, then default.
//
// For -h or --help it writes usage to stderr and returns flag.ErrHelp, on
// which the caller should exit 0. Other errors are returned, not printed: a
// bad environment value names the variable, a bad flag value names the flag.
func Parse(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	cfg := Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned; help is printed below
	fs.Usage = func() {}
	opts := options(&cfg)
	for _, o := range opts {
		fs.Var(o.value, o.name, o.usage)
	}
	// Defaults as text, captured before anything is set.
	defaults := make([]string, len(opts))
	for i, o := range opts {
		defaults[i] = o.value.String()
	}

	if getenv != nil {
		for _, o := range opts {
			env := EnvName(o.name)
			v := getenv(env)
			if v == "" {
				continue
			}
			if err := o.value.Set(v); err != nil {
				return Config{}, fmt.Errorf("invalid value %q for environment variable %s: %w", v, env, err)
			}
		}
	}

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			if stderr != nil {
				writeUsage(stderr, opts, defaults)
			}
			return Config{}, flag.ErrHelp
		}
		names := make([]string, len(opts))
		for i, o := range opts {
			names[i] = o.name
		}
		return Config{}, &UsageError{Err: err, Hint: FlagHint(fs, args, names)}
	}
	if fs.NArg() > 0 {
		return Config{}, &UsageError{Err: fmt.Errorf("unexpected argument %q: armlet serve takes only flags", fs.Arg(0))}
	}
	if (cfg.CertFile == "") != (cfg.KeyFile == "") {
		return Config{}, fmt.Errorf("--cert and --key (or %s and %s) must be given together",
			EnvName("cert"), EnvName("key"))
	}
	if err := cfg.checkStore(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// UsageError is a command line that cannot be parsed: an unknown flag, a
// bad flag value, a stray argument. Commands print it with its Hint and
// exit with status 2.
type UsageError struct {
	Err error
	// Hint names the nearest valid flag or command ("did you mean
	// --listen?"), or is empty.
	Hint string
}

func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns Err.
func (e *UsageError) Unwrap() error { return e.Err }

// FlagHint suggests the flag nearest to the first argument of args that
// names no flag of fs ("did you mean --data-dir?"), or "".
func FlagHint(fs *flag.FlagSet, args, names []string) string {
	for _, a := range args {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if fs.Lookup(name) != nil {
			continue
		}
		if n := Nearest(name, names); n != "" {
			return "did you mean --" + n + "?"
		}
		return ""
	}
	return ""
}

// Nearest returns the word of words closest to w, case-insensitively: by
// edit distance within max(2, len(w)/3) edits, a word that w (3 letters or
// more) begins counting as one edit away; or "" when none is that close.
func Nearest(w string, words []string) string {
	best, bestD := "", len(w)/3
	if bestD < 2 {
		bestD = 2
	}
	bestD++
	for _, c := range words {
		d := editDistance(strings.ToLower(w), strings.ToLower(c))
		if strings.HasPrefix(strings.ToLower(c), strings.ToLower(w)) && len(w) >= 3 {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// checkStore checks the store flags against each other.
func (c Config) checkStore() error {
	etcd := c.EtcdEndpoints() != nil
	if etcd && c.InMemory {
		return fmt.Errorf("--in-memory (%s) and --store %s conflict: choose one", EnvName("in-memory"), c.Store)
	}
	if !etcd {
		for _, f := range []struct{ name, v string }{
			{"etcd-ca", c.EtcdCA}, {"etcd-cert", c.EtcdCert}, {"etcd-key", c.EtcdKey},
			{"etcd-username", c.EtcdUsername}, {"etcd-password", c.EtcdPassword},
		} {
			if f.v != "" {
				return fmt.Errorf("--%s (%s) needs --store %shost:port", f.name, EnvName(f.name), StoreEtcdScheme)
			}
		}
	}
	if (c.EtcdCert == "") != (c.EtcdKey == "") {
		return fmt.Errorf("--etcd-cert and --etcd-key (or %s and %s) must be given together",
			EnvName("etcd-cert"), EnvName("etcd-key"))
	}
	if c.EtcdPassword != "" && c.EtcdUsername == "" {
		return fmt.Errorf("--etcd-password (%s) needs --etcd-username", EnvName("etcd-password"))
	}
	return nil
}

// MemoryStore reports whether resource state is kept in memory
// (--in-memory or --store memory).
func (c Config) MemoryStore() bool { return c.InMemory || c.Store == StoreMemory }

// EtcdEndpoints returns the host:port endpoints of an etcd:// Store, or nil
// when the store is not etcd.
func (c Config) EtcdEndpoints() []string {
	rest, ok := strings.CutPrefix(c.Store, StoreEtcdScheme)
	if !ok {
		return nil
	}
	return strings.Split(rest, ",")
}

// Summary returns one "name=value" line per setting, named like the flags,
// in a stable order, for the startup log.
func (c Config) Summary() []string {
	opts := options(&c)
	out := make([]string, 0, len(opts))
	for _, o := range opts {
		v := o.value.String()
		if secretOptions[o.name] && v != "" {
			v = "(set)" // never log a password
		}
		out = append(out, o.name+"="+v)
	}
	return out
}

// option is one flag: its name, argument name for usage, help text and the
// value bound to a Config field.
type option struct {
	name  string
	arg   string // argument placeholder in usage; empty for booleans
	usage string
	value flag.Value
}

// secretOptions are the flags whose values Summary hides.
var secretOptions = map[string]bool{"etcd-password": true}

// options binds every flag to a field of cfg, in the order usage and
// Summary list them.
func options(cfg *Config) []option {
	return []option{
		{"listen", "host:port", "address of the HTTPS listener",
			&value[string]{p: &cfg.Listen, parse: parseListen, format: fmtString}},
		{"proxy-listen", "host:port", "address of the HTTPS proxy (HTTPS_PROXY) that serves Azure's own host names armlet stands in for (so far a key vault's {name}.vault.azure.net); empty: no proxy",
			&value[string]{p: &cfg.ProxyListen, parse: parseOptionalListen, format: fmtString}},
		{"data-dir", "dir", "directory for state, the local CA and connection.json",
			&value[string]{p: &cfg.DataDir, parse: parseNonEmpty, format: fmtString}},
		{"in-memory", "", "keep resource state in memory instead of bbolt (the data dir still holds certificates and connection.json)",
			&value[bool]{p: &cfg.InMemory, parse: parseBool, format: strconv.FormatBool, isBool: true}},
		{"store", "backend", `where resource state is kept: empty for bbolt in the data dir, "memory", or "etcd://host:2379[,host2:2379]"`,
			&value[string]{p: &cfg.Store, parse: parseStore, format: fmtString}},
		{"etcd-ca", "file", "PEM CA file to verify the etcd servers with (TLS)",
			&value[string]{p: &cfg.EtcdCA, parse: parseAny, format: fmtString}},
		{"etcd-cert", "file", "PEM client certificate for etcd (needs --etcd-key)",
			&value[string]{p: &cfg.EtcdCert, parse: parseAny, format: fmtString}},
		{"etcd-key", "file", "PEM private key of --etcd-cert",
			&value[string]{p: &cfg.EtcdKey, parse: parseAny, format: fmtString}},
		{"etcd-username", "name", "etcd user name",
			&value[string]{p: &cfg.EtcdUsername, parse: parseAny, format: fmtString}},
		{"etcd-password", "password", "etcd password (prefer the environment variable to the flag)",
			&value[string]{p: &cfg.EtcdPassword, parse: parseAny, format: fmtString}},
		{"etcd-prefix", "prefix", "prefix of every etcd key armlet writes, ending with /, so that several armlets can share a cluster",
			&value[string]{p: &cfg.EtcdPrefix, parse: parseEtcdPrefix, format: fmtString}},
		{"public-url", "url", "https://host:port clients reach armlet at, when not the listener's address (a load balancer in front of replicas); empty: the listener's address",
			&value[string]{p: &cfg.PublicURL, parse: parsePublicURL, format: fmtString}},
		{"replica-name", "name", "name of this replica among those sharing an etcd store (empty: hostname:port)",
			&value[string]{p: &cfg.ReplicaName, parse: parseAny, format: fmtString}},
		{"leader-lease", "duration", "how long a dead replica may keep the lead of the time-driven work before another takes over (whole seconds, 1s to 1m)",
			&value[time.Duration]{p: &cfg.LeaderLease, parse: parseLeaderLease, format: fmtDuration}},
		{"cert", "file", "PEM server certificate to use instead of the local CA (needs --key)",
			&value[string]{p: &cfg.CertFile, parse: parseAny, format: fmtString}},
		{"key", "file", "PEM private key of --cert",
			&value[string]{p: &cfg.KeyFile, parse: parseAny, format: fmtString}},
		{"legacy-mode-propagation", "range", `delay for a v1LegacyMode true->false change: "min-max" (uniform), "45m" (fixed) or "0" (immediate)`,
			&cfg.LegacyModePropagation},
		{"lenient-api-versions", "", "accept api-versions the emulator does not know",
			&value[bool]{p: &cfg.LenientAPIVersions, parse: parseBool, format: strconv.FormatBool, isBool: true}},
		{"seed", "file", "seed file of pre-existing resources to import (empty: none)",
			&value[string]{p: &cfg.SeedFile, parse: parseAny, format: fmtString}},
		{"random-seed", "n", "seed for random choices such as propagation delays (0: random)",
			&value[int64]{p: &cfg.RandomSeed, parse: parseInt64(minInt64), format: fmtInt64}},
		{"log-level", "level", "minimum log level: debug, info, warn or error",
			&value[slog.Level]{p: &cfg.LogLevel, parse: parseLogLevel, format: fmtLogLevel}},
		{"log-format", "format", "log format: text or json",
			&value[string]{p: &cfg.LogFormat, parse: parseLogFormat, format: fmtString}},
		{"token-lifetime", "duration", "lifetime of issued access tokens, measured on the wall clock (10s to 24h)",
			&value[time.Duration]{p: &cfg.TokenLifetime, parse: parseDuration(MinTokenLifetime, MaxTokenLifetime), format: fmtDuration}},
		{"max-body-bytes", "n", "maximum request body size in bytes (at least 1024)",
			&value[int64]{p: &cfg.MaxBodyBytes, parse: parseInt64(MinMaxBodyBytes), format: fmtInt64}},
		{"render-cache-mb", "n", "MiB of rendered GET bodies kept to answer GETs without rendering again (0: off)",
			&value[int64]{p: &cfg.RenderCacheMB, parse: parseInt64(0), format: fmtInt64}},
		{"operation-duration", "duration", "how long long-running operations take on the armlet clock (0 to 10m)",
			&value[time.Duration]{p: &cfg.OperationDuration, parse: parseDuration(0, 10*time.Minute), format: fmtDuration}},
		{"shutdown-timeout", "duration", "how long a graceful shutdown waits for in-flight requests",
			&value[time.Duration]{p: &cfg.ShutdownTimeout, parse: parseDuration(time.Nanosecond, 0), format: fmtDuration}},
		{"flow-retention", "duration", "how long flow records (GET /_armlet/flows, armlet report exposure) are kept, on the armlet clock (at least 1m)",
			&value[time.Duration]{p: &cfg.FlowRetention, parse: parseDuration(MinFlowRetention, 0), format: fmtDuration}},
		{"flow-retention-records", "n", "how many flow records are kept at most; the oldest go first (at least 1)",
			&value[int64]{p: &cfg.FlowRetentionRecords, parse: parseInt64(1), format: fmtInt64}},
		{"read-header-timeout", "duration", "how long a client may take for the TLS handshake and a request's headers",
			&value[time.Duration]{p: &cfg.ReadHeaderTimeout, parse: parseDuration(time.Nanosecond, 0), format: fmtDuration}},
		{"read-timeout", "duration", "how long a client may take to send a whole request, body included",
			&value[time.Duration]{p: &cfg.ReadTimeout, parse: parseDuration(time.Nanosecond, 0), format: fmtDuration}},
		{"idle-timeout", "duration", "how long an idle keep-alive connection is kept open",
			&value[time.Duration]{p: &cfg.IdleTimeout, parse: parseDuration(time.Nanosecond, 0), format: fmtDuration}},
		{"max-connections", "n", "most connections held open at once over all listeners; more are closed at once (at least 1)",
			&value[int64]{p: &cfg.MaxConnections, parse: parseInt64(1), format: fmtInt64}},
		{"rbac", "mode", "Azure RBAC on ARM requests: enforce (refuse what no role assignment allows) or audit (log and record denials, let them through)",
			&value[string]{p: &cfg.RBAC, parse: parseRBAC, format: fmtString}},
	}
}

func writeUsage(w io.Writer, opts []option, defaults []string) {
	var b strings.Builder
	b.WriteString("Usage: armlet serve [flags]\n\n")
	b.WriteString("Runs the armlet Azure Resource Manager emulator.\n")
	b.WriteString("Every flag can also be set by its environment variable; a flag wins over\n")
	b.WriteString("the variable, which wins over the default.\n\nFlags:\n")
	for i, o := range opts {
		b.WriteString("  --" + o.name)
		if o.arg != "" {
			b.WriteString(" " + o.arg)
		}
		def := defaults[i]
		if def == "" {
			def = "none"
		}
		fmt.Fprintf(&b, "\n        %s\n        (env %s, default %s)\n", o.usage, EnvName(o.name), def)
	}
	io.WriteString(w, b.String())
}

// value is a flag.Value bound to a field, with a parser that validates.
type value[T any] struct {
	p      *T
	parse  func(string) (T, error)
	format func(T) string
	isBool bool
}

func (v *value[T]) Set(s string) error {
	x, err := v.parse(s)
	if err != nil {
		return err
	}
	*v.p = x
	return nil
}

func (v *value[T]) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	return v.format(*v.p)
}

// IsBoolFlag lets boolean flags be given without a value (--in-memory).
func (v *value[T]) IsBoolFlag() bool { return v.isBool }

func fmtString(s string) string { return s }
func fmtInt64(n int64) string   { return strconv.FormatInt(n, 10) }
func fmtLogLevel(l slog.Level) string {
	return strings.ToLower(l.String())
}

func parseAny(s string) (string, error) { return s, nil }

func parseBool(s string) (bool, error) {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return false, fmt.Errorf("%q is not a boolean (true or false)", s)
	}
	return b, nil
}

// parseStore accepts "", "memory" or etcd://host:port[,host:port...] with
// numeric ports.
func parseStore(s string) (string, error) {
	if s == "" || s == StoreMemory {
		return s, nil
	}
	rest, ok := strings.CutPrefix(s, StoreEtcdScheme)
	if !ok {
		return "", fmt.Errorf(`%q is not empty (bbolt), "memory" or %shost:port[,host:port]`, s, StoreEtcdScheme)
	}
	if rest == "" {
		return "", fmt.Errorf("%q names no etcd endpoint", s)
	}
	for _, ep := range strings.Split(rest, ",") {
		host, port, err := net.SplitHostPort(ep)
		if err != nil || host == "" {
			return "", fmt.Errorf("etcd endpoint %q is not host:port", ep)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("etcd endpoint %q: port %q is not a number in 1-65535", ep, port)
		}
	}
	return s, nil
}

func parsePublicURL(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not an https://host[:port] URL without path or query", s)
	}
	return strings.TrimSuffix(s, "/"), nil
}

func parseEtcdPrefix(s string) (string, error) {
	if !strings.HasSuffix(s, "/") {
		return "", fmt.Errorf("%q must end with /", s)
	}
	return s, nil
}

func parseLeaderLease(s string) (time.Duration, error) {
	d, err := parseDuration(time.Second, time.Minute)(s)
	if err != nil {
		return 0, err
	}
	if d%time.Second != 0 {
		return 0, fmt.Errorf("%q is not a whole number of seconds", s)
	}
	return d, nil
}

func parseNonEmpty(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", errors.New("must not be empty")
	}
	return s, nil
}

// parseListen accepts host:port with a numeric port in 0-65535. The host may
// be empty (all interfaces), an IP address or a host name.
func parseListen(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("want host:port: %w", err)
	}
	if port == "" || strings.Trim(port, "0123456789") != "" {
		return "", fmt.Errorf("port %q is not a number", port)
	}
	if n, err := strconv.Atoi(port); err != nil || n > 65535 {
		return "", fmt.Errorf("port %s is out of range 0-65535", port)
	}
	if host != "" && net.ParseIP(host) == nil && !isHostname(host) {
		return "", fmt.Errorf("host %q is neither an IP address nor a host name", host)
	}
	return s, nil
}

// parseOptionalListen is parseListen, or empty for "off".
func parseOptionalListen(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	return parseListen(s)
}

func isHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

const minInt64 = -1 << 63

func parseInt64(min int64) func(string) (int64, error) {
	return func(s string) (int64, error) {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", s)
		}
		if n < min {
			return 0, fmt.Errorf("%d is less than the minimum %d", n, min)
		}
		return n, nil
	}
}

// parseDuration parses a Go duration within [min, max]; max 0 means no
// upper bound.
func parseDuration(min, max time.Duration) func(string) (time.Duration, error) {
	return func(s string) (time.Duration, error) {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration such as 90s, 45m or 1h", s)
		}
		if d < min {
			if min == time.Nanosecond {
				return 0, fmt.Errorf("%s is not positive", fmtDuration(d))
			}
			return 0, fmt.Errorf("%s is less than the minimum %s", fmtDuration(d), fmtDuration(min))
		}
		if max > 0 && d > max {
			return 0, fmt.Errorf("%s is more than the maximum %s", fmtDuration(d), fmtDuration(max))
		}
		return d, nil
	}
}

func parseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%q is not one of debug, info, warn, error", s)
}

func parseRBAC(s string) (string, error) {
	switch m := strings.ToLower(strings.TrimSpace(s)); m {
	case RBACEnforce, RBACAudit:
		return m, nil
	}
	return "", fmt.Errorf("%q is not one of enforce, audit", s)
}

func parseLogFormat(s string) (string, error) {
	switch f := strings.ToLower(strings.TrimSpace(s)); f {
	case "text", "json":
		return f, nil
	}
	return "", fmt.Errorf("%q is not one of text, json", s)
}

// DurationRange is a range of delays [Min, Max]; 0 <= Min <= Max.
// Min == Max is a fixed delay.
type DurationRange struct {
	Min, Max time.Duration
}

// ParseDurationRange parses "30m-60m" (a range), "45m" (a fixed delay) or
// "0" (immediate). Durations use Go syntax; none may be negative, and the
// minimum may not exceed the maximum.
func ParseDurationRange(s string) (DurationRange, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DurationRange{}, errors.New(`empty; want "min-max", a single duration or "0"`)
	}
	minText, maxText := s, s
	// The separator is a '-' after the first character, so that a leading
	// minus sign reads as a (rejected) negative duration.
	if i := strings.IndexByte(s[1:], '-'); i >= 0 {
		minText, maxText = strings.TrimSpace(s[:i+1]), strings.TrimSpace(s[i+2:])
	}
	min, err := parseNonNegative(minText)
	if err != nil {
		return DurationRange{}, err
	}
	max, err := parseNonNegative(maxText)
	if err != nil {
		return DurationRange{}, err
	}
	if min > max {
		return DurationRange{}, fmt.Errorf("minimum %s is more than maximum %s", fmtDuration(min), fmtDuration(max))
	}
	return DurationRange{Min: min, Max: max}, nil
}

func parseNonNegative(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 30m or 1h", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%s is negative", fmtDuration(d))
	}
	return d, nil
}

// String formats the range so that ParseDurationRange reads it back:
// "30m-1h", "45m" or "0".
func (r DurationRange) String() string {
	if r.Min == r.Max {
		return fmtDuration(r.Min)
	}
	return fmtDuration(r.Min) + "-" + fmtDuration(r.Max)
}

// Set implements flag.Value.
func (r *DurationRange) Set(s string) error {
	v, err := ParseDurationRange(s)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// fmtDuration is time.Duration.String without trailing zero units:
// "1h" rather than "1h0m0s", "0" rather than "0s".
func fmtDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
