package netmodel

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/armlet/armlet/internal/arm/resourceid"
)

// Redacted replaces the value of a secret-looking field.
const Redacted = "[REDACTED]"

// Limits on what one flow record keeps, so a large body cannot make a
// large record.
const (
	maxParams      = 200
	maxValueLen    = 256
	maxResourceIDs = 50
)

// Param is one piece of metadata a request carried: a query parameter
// (Name is its name) or a body property (Name is its path, such as
// "properties.v1LegacyMode" or "tags.env" or "properties.subnets[0].name").
// Value is the JSON scalar as text (strings without quotes), or Redacted.
type Param struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Redacted bool   `json:"redacted,omitempty"`
}

// Metadata is what a request carried across the network besides its
// method and path.
type Metadata struct {
	// ResourceIDs are the resource addressed by the path and every resource
	// ID found in query values and body values.
	ResourceIDs []string `json:"resourceIds,omitempty"`
	Query       []Param  `json:"query,omitempty"`
	Body        []Param  `json:"body,omitempty"`
	// Truncated is set when a limit cut the lists short.
	Truncated bool `json:"truncated,omitempty"`
}

// ExtractMetadata collects the metadata of a request: resourceID (may be
// empty), every query parameter, and every body property of a JSON or form
// body, with the values of secret-looking names (see SecretName) replaced
// by Redacted.
func ExtractMetadata(resourceID string, query url.Values, contentType string, body []byte) Metadata {
	var m Metadata
	seen := map[string]bool{}
	addID := func(s string) {
		if len(m.ResourceIDs) >= maxResourceIDs {
			m.Truncated = true
			return
		}
		k := strings.ToLower(s)
		if !seen[k] {
			seen[k] = true
			m.ResourceIDs = append(m.ResourceIDs, s)
		}
	}
	if resourceID != "" && resourceID != "/" {
		addID(resourceID)
	}
	m.Query = m.params(query, addID)
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return m
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/x-www-form-urlencoded":
		if form, err := url.ParseQuery(string(body)); err == nil {
			m.Body = m.params(form, addID)
		}
	case strings.Contains(mt, "json") || mt == "" && (body[0] == '{' || body[0] == '['):
		var v any
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		if d.Decode(&v) == nil {
			redactSecureParameters(v)
			m.walk("", v, addID)
		}
	}
	return m
}

// redactVaultBody is a Key Vault data-plane body as a flow record may keep
// it: a secret's "value" (Set Secret's body), whose name looks innocent to
// SecretName, is Redacted before anything is read from it, so that it
// shows up neither as a body property nor as a resource ID. A body that is
// not a JSON object is kept not at all.
func redactVaultBody(body []byte) []byte {
	if len(bytes.TrimSpace(body)) == 0 {
		return body
	}
	var v map[string]any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return nil
	}
	for k := range v {
		if strings.EqualFold(k, "value") {
			v[k] = Redacted
		}
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return out
}

// redactSecureParameters replaces, in an ARM template deployment's body
// (a PUT, validate or whatIf: properties.template and
// properties.parameters), the value of every parameter the template
// declares securestring or secureObject, whatever its name.
func redactSecureParameters(v any) {
	body, _ := v.(map[string]any)
	props, _ := body["properties"].(map[string]any)
	tmpl, _ := props["template"].(map[string]any)
	declared, _ := tmpl["parameters"].(map[string]any)
	given, _ := props["parameters"].(map[string]any)
	for name, d := range declared {
		dm, _ := d.(map[string]any)
		typ, _ := dm["type"].(string)
		if !strings.EqualFold(typ, "securestring") && !strings.EqualFold(typ, "secureobject") {
			continue
		}
		for gname, g := range given {
			if gm, ok := g.(map[string]any); ok && strings.EqualFold(gname, name) {
				if _, has := gm["value"]; has {
					gm["value"] = Redacted
				}
			}
		}
		if _, has := dm["defaultValue"]; has {
			dm["defaultValue"] = Redacted
		}
	}
}

func (m *Metadata) params(values url.Values, addID func(string)) []Param {
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	slices.Sort(names)
	var out []Param
	for _, k := range names {
		for _, v := range values[k] {
			if len(out) >= maxParams {
				m.Truncated = true
				return out
			}
			if SecretName(k) {
				out = append(out, Param{Name: k, Value: Redacted, Redacted: true})
				continue
			}
			if looksLikeResourceID(v) {
				addID(v)
			}
			out = append(out, Param{Name: k, Value: clip(v)})
		}
	}
	return out
}

func (m *Metadata) walk(path string, v any, addID func(string)) {
	if len(m.Body) >= maxParams {
		m.Truncated = true
		return
	}
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			m.add(path, "{}")
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if SecretName(k) {
				if len(m.Body) >= maxParams {
					m.Truncated = true
					return
				}
				m.Body = append(m.Body, Param{Name: p, Value: Redacted, Redacted: true})
				continue
			}
			m.walk(p, x[k], addID)
		}
	case []any:
		if len(x) == 0 {
			m.add(path, "[]")
			return
		}
		for i, e := range x {
			m.walk(path+"["+strconv.Itoa(i)+"]", e, addID)
		}
	case string:
		if looksLikeResourceID(x) {
			addID(x)
		}
		m.add(path, x)
	case json.Number:
		m.add(path, x.String())
	case bool:
		m.add(path, strconv.FormatBool(x))
	case nil:
		m.add(path, "null")
	}
}

func (m *Metadata) add(path, value string) {
	if len(m.Body) >= maxParams {
		m.Truncated = true
		return
	}
	if path == "" {
		path = "$"
	}
	m.Body = append(m.Body, Param{Name: path, Value: clip(value)})
}

func clip(s string) string {
	if len(s) <= maxValueLen {
		return s
	}
	cut := maxValueLen
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func looksLikeResourceID(s string) bool {
	l := strings.ToLower(s)
	if !strings.HasPrefix(l, "/subscriptions/") && !strings.HasPrefix(l, "/providers/") {
		return false
	}
	id, err := resourceid.Parse(s)
	return err == nil && !id.IsRoot()
}

// RedactJSON returns a copy of the decoded JSON value v (the maps, slices
// and scalars encoding/json makes) in which, at any depth, the value of
// every member whose name SecretName calls secret is Redacted. It is the
// flow records' test applied to a whole document, for admin views that
// would otherwise print stored secrets. v is not changed.
//
// Choice: a secret member's value is replaced whole, object or not (its
// inner names and shape are not shown); a null stays null, since there is
// nothing to hide and the null says so.
func RedactJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, mv := range x {
			if mv != nil && SecretName(k) {
				out[k] = Redacted
				continue
			}
			out[k] = RedactJSON(mv)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = RedactJSON(e)
		}
		return out
	default:
		return v
	}
}

// secretWords make a name secret wherever they appear in it; keyWords
// only as its last word ("accountKey", "primaryKey", but not "keyVault" or
// "keyName").
var (
	secretWords = map[string]bool{
		"secret": true, "secrets": true, "password": true, "passwords": true, "passwd": true, "pwd": true,
		"passphrase": true, "credential": true, "credentials": true, "creds": true, "token": true,
		"tokens": true, "sas": true, "sig": true, "signature": true, "certificate": true,
		"certificates": true, "cert": true, "pfx": true, "assertion": true, "authorization": true,
		"cookie": true, "connectionstring": true, "connectionstrings": true,
	}
	secretSubstrings = []string{"secret", "password", "passwd", "credential", "connectionstring", "accesstoken", "sastoken", "privatekey"}
)

// SecretName reports whether a JSON member or parameter name looks like it
// holds a secret: it contains secret, password, credential(s), token, sas,
// signature, certificate, assertion, authorization or connectionString as
// a word (camelCase, snake_case and kebab-case are split into words), or
// its last word ends in "key" or "keys".
//
// Choice: the test is by name only and errs towards redacting
// ("tokenLifetime", "$skipToken" and "certificateThumbprint" are redacted
// too); a value is never inspected, so a secret under an innocent name
// (a "uri" holding a SAS) is kept.
func SecretName(name string) bool {
	lower := strings.ToLower(name)
	for _, s := range secretSubstrings {
		if strings.Contains(lower, s) {
			return true
		}
	}
	words := splitWords(name)
	for i, w := range words {
		if secretWords[w] {
			return true
		}
		if i+1 < len(words) && w == "connection" && (words[i+1] == "string" || words[i+1] == "strings") {
			return true
		}
	}
	if n := len(words); n > 0 && (strings.HasSuffix(words[n-1], "key") || strings.HasSuffix(words[n-1], "keys")) {
		return true
	}
	return false
}

// splitWords splits a name into lower-case words at camelCase boundaries
// ("SASToken" is "sas", "token") and at any non-letter.
func splitWords(s string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		if !unicode.IsLetter(r) {
			flush()
			continue
		}
		if unicode.IsUpper(r) && len(cur) > 0 {
			prevLower := unicode.IsLower(rs[i-1])
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if prevLower || (unicode.IsUpper(rs[i-1]) && nextLower) {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return words
}
