package blobapi

import (
	"crypto/hmac"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/armlet/armlet/internal/storagesas"
)

// sharedKeyStringToSign is the Blob service's string-to-sign of a Shared
// Key request (Azure's "Authorize with Shared Key", version 2009-09-19
// and later): the verb, the standard headers (Content-Length empty when
// zero), the canonicalized x-ms- headers and the canonicalized resource.
// account is the account name; the Date header is empty, as every SDK
// sends x-ms-date instead (a Date is still signed when no x-ms-date is
// sent). dashLast picks the order of the x-ms- headers (canonicalHeaders).
func sharedKeyStringToSign(account string, r *http.Request, dashLast bool) string {
	h := r.Header
	length := h.Get("Content-Length")
	if length == "" && r.ContentLength > 0 {
		length = strconv.FormatInt(r.ContentLength, 10)
	}
	if length == "0" {
		length = ""
	}
	date := ""
	if h.Get("x-ms-date") == "" {
		date = h.Get("Date")
	}
	return strings.Join([]string{
		r.Method,
		h.Get("Content-Encoding"), h.Get("Content-Language"), length, h.Get("Content-MD5"), h.Get("Content-Type"),
		date, h.Get("If-Modified-Since"), h.Get("If-Match"), h.Get("If-None-Match"), h.Get("If-Unmodified-Since"),
		h.Get("Range"),
		canonicalHeaders(h, dashLast),
		canonicalResource(account, r.URL),
	}, "\n")
}

// canonicalHeaders are the x-ms- headers, lower-cased, "name:value" one a
// line, sorted by name. Azure says "lexicographically"; its service
// compares as .NET's culture-aware comparison does, which weighs a hyphen
// less than a letter (azblob since v1.6 sorts so, with tables of those
// weights), while the Python SDK and older clients sort bytewise. The two
// differ only when one name continues where another has a hyphen
// (x-ms-meta-a-b and x-ms-meta-ab), so armlet accepts a signature over
// either order: dashLast orders names as if hyphens were absent, ties
// broken bytewise.
func canonicalHeaders(h http.Header, dashLast bool) string {
	values := map[string][]string{}
	var names []string
	for k, vs := range h {
		if n := strings.ToLower(strings.TrimSpace(k)); strings.HasPrefix(n, "x-ms-") {
			if _, seen := values[n]; !seen {
				names = append(names, n)
			}
			values[n] = append(values[n], vs...)
		}
	}
	if dashLast {
		slices.SortFunc(names, func(a, b string) int {
			if c := strings.Compare(strings.ReplaceAll(a, "-", ""), strings.ReplaceAll(b, "-", "")); c != 0 {
				return c
			}
			return strings.Compare(a, b)
		})
	} else {
		slices.Sort(names)
	}
	lines := make([]string, 0, len(names))
	for _, n := range names {
		lines = append(lines, n+":"+strings.Join(values[n], ","))
	}
	return strings.Join(lines, "\n")
}

// canonicalResource is "/{account}{escaped path}" and each query
// parameter as "\nname:values", names lower-cased and sorted, values
// decoded, sorted and joined with commas.
func canonicalResource(account string, u *url.URL) string {
	var b strings.Builder
	b.WriteString("/" + account)
	if p := u.EscapedPath(); p != "" {
		b.WriteString(p)
	} else {
		b.WriteString("/")
	}
	q, _ := url.ParseQuery(u.RawQuery)
	names := make([]string, 0, len(q))
	for n := range q {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		vs := slices.Clone(q[n])
		slices.Sort(vs)
		b.WriteString("\n" + strings.ToLower(n) + ":" + strings.Join(vs, ","))
	}
	return b.String()
}

// sign is the base64 HMAC-SHA256 of s with the base64 key; false when the
// key does not decode.
func sign(key, s string) (string, bool) { return storagesas.HMAC(key, s) }

// sameSignature compares signatures in constant time.
func sameSignature(a, b string) bool { return hmac.Equal([]byte(a), []byte(b)) }

// checkSharedKey verifies an "Authorization: SharedKey account:signature"
// header of r against the account's keys.
func checkSharedKey(account string, keys []string, authorization string, r *http.Request) error {
	cred := strings.TrimSpace(authorization[len("SharedKey "):])
	name, sig, ok := strings.Cut(cred, ":")
	if !ok || sig == "" {
		return storageErr(http.StatusForbidden, CodeInvalidAuthenticationInf, "Authentication information is not given in the correct format. Check the value of Authorization header.")
	}
	if name != account {
		return authFailed("The MAC signature found in the HTTP request '" + sig + "' is not the same as any computed signature. The account name in the Authorization header is not the account of the request.")
	}
	for _, dashLast := range []bool{false, true} {
		sts := sharedKeyStringToSign(account, r, dashLast)
		for _, k := range keys {
			if want, ok := sign(k, sts); ok && sameSignature(want, sig) {
				return nil
			}
		}
	}
	return authFailed("The MAC signature found in the HTTP request '" + sig + "' is not the same as any computed signature.")
}
