// Package storagesas signs Azure Storage shared access signatures with a
// storage account's key: the one string-to-sign of a blob service SAS
// that armlet's blob data plane verifies (internal/blobapi) and its
// providers sign (the Azure ML provider's upload and download URIs). It
// depends on nothing of armlet's, so a provider may import it without
// reaching the front door or another provider.
package storagesas

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
	"time"
)

// Version is the signed version (sv) Sign writes: one whose layout has the
// signed encryption scope line, as azblob and azure-storage-blob 12.x
// sign.
const Version = "2021-10-04"

// Service is a blob service SAS's signed fields, as the query carries
// them (raw strings: the signature covers them as sent).
type Service struct {
	Version     string // sv
	Resource    string // sr: "c" a container, "b" a blob, "bs" a snapshot
	Permissions string // sp
	Start       string // st, optional
	Expiry      string // se
	Identifier  string // si
	IP          string // sip
	Protocol    string // spr
	Snapshot    string // the snapshot's time (sr=bs), signed as the signed timestamp
	EncScope    string // ses
	// Response header overrides.
	CacheControl, ContentDisposition, ContentEncoding, ContentLanguage, ContentType string // rscc, rscd, rsce, rscl, rsct
}

// StringToSign is what the account key signs for s, per Azure's "Create a
// service SAS": the canonical name is /blob/{account}/{container}, with
// /{blob} for a blob (sr=b or bs); from sv 2020-12-06 on the signed
// encryption scope has a line of its own.
func (s Service) StringToSign(account, container, blob string) string {
	name := "/blob/" + account + "/" + container
	if s.Resource != "c" {
		name += "/" + blob
	}
	parts := []string{s.Permissions, s.Start, s.Expiry, name, s.Identifier, s.IP, s.Protocol, s.Version, s.Resource, s.Snapshot}
	if s.Version >= "2020-12-06" {
		parts = append(parts, s.EncScope)
	}
	return strings.Join(append(parts, s.CacheControl, s.ContentDisposition, s.ContentEncoding, s.ContentLanguage, s.ContentType), "\n")
}

// HMAC is the base64 HMAC-SHA256 of s with the base64 account key; false
// when the key does not decode.
func HMAC(key, s string) (string, bool) {
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		return "", false
	}
	m := hmac.New(sha256.New, k)
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil)), true
}

// SignService returns the query (without "?") of a service SAS over
// container (sr=c) or the blob of container (sr=b), granting permissions
// from now until expiry, over https only, signed with key (base64, as
// listKeys gives it); ok is false when the key does not decode. The
// caller chooses permissions and expiry; no start is signed, so a clock
// a little behind armlet's does not refuse it.
func SignService(key, account, container, blob, resource, permissions string, expiry time.Time) (query string, ok bool) {
	s := Service{
		Version: Version, Resource: resource, Permissions: permissions,
		Expiry: expiry.UTC().Format(time.RFC3339), Protocol: "https",
	}
	sig, ok := HMAC(key, s.StringToSign(account, container, blob))
	if !ok {
		return "", false
	}
	q := url.Values{"sv": {s.Version}, "sr": {s.Resource}, "sp": {s.Permissions}, "se": {s.Expiry}, "spr": {s.Protocol}, "sig": {sig}}
	return q.Encode(), true
}
