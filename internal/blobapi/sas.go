package blobapi

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/storagesas"
)

// A shared access signature, as the query of a request carries it.
//
// Choice: armlet verifies the string-to-sign layouts of signed versions
// (sv) 2018-11-09 and later: for a service SAS, from 2020-12-06 on with the
// signed encryption scope line (what azblob and azure-storage-blob 12.x
// sign), before that without it; for an account SAS likewise. An older sv,
// a stored access policy (si) and a user delegation SAS (skoid) are
// refused with 403 AuthenticationFailed naming what is not served; sip is
// not checked (a client through the proxy has no public address to
// compare).
type sas struct {
	version     string // sv
	services    string // ss (account SAS)
	types       string // srt (account SAS)
	resource    string // sr (service SAS): c or b
	permissions string // sp
	start       time.Time
	expiry      time.Time
	rawStart    string
	rawExpiry   string
	ip          string // sip
	protocol    string // spr
	identifier  string // si
	encScope    string // ses
	snapshot    string // snapshot (sr=bs), signed as the signed timestamp
	signature   string // sig
	// response header overrides, signed by a service SAS.
	rscc, rscd, rsce, rscl, rsct string
}

// account reports whether the signature is an account SAS (it has srt).
func (s *sas) account() bool { return s.types != "" }

// parseSAS reads the SAS parameters of q; ok is false when q carries no
// signature (sig) at all.
func parseSAS(q url.Values) (*sas, bool, error) {
	get := func(n string) string { return q.Get(n) }
	if get("sig") == "" {
		return nil, false, nil
	}
	s := &sas{
		version: get("sv"), services: get("ss"), types: get("srt"), resource: get("sr"), permissions: get("sp"),
		rawStart: get("st"), rawExpiry: get("se"), ip: get("sip"), protocol: get("spr"), identifier: get("si"),
		encScope: get("ses"), signature: get("sig"), snapshot: get("snapshot"),
		rscc: get("rscc"), rscd: get("rscd"), rsce: get("rsce"), rscl: get("rscl"), rsct: get("rsct"),
	}
	if !validVersion(s.version) {
		return nil, true, authFailed("sv is mandatory and must be a version date (yyyy-mm-dd).")
	}
	if s.version < "2018-11-09" {
		return nil, true, authFailed("armlet verifies signed versions 2018-11-09 and later; sv=" + s.version + " is older.")
	}
	if s.identifier != "" || get("skoid") != "" {
		return nil, true, authFailed("armlet does not serve stored access policies (si) or user delegation SAS (skoid).")
	}
	var err error
	if s.rawStart != "" {
		if s.start, err = parseSASTime(s.rawStart); err != nil {
			return nil, true, authFailed("st is not a valid ISO 8601 time: " + s.rawStart)
		}
	}
	if s.expiry, err = parseSASTime(s.rawExpiry); err != nil {
		return nil, true, authFailed("se is mandatory and must be a valid ISO 8601 time: " + s.rawExpiry)
	}
	if s.protocol != "" && s.protocol != "https" && s.protocol != "https,http" {
		return nil, true, authFailed("spr must be https or https,http: " + s.protocol)
	}
	if s.account() {
		if s.services == "" || strings.Trim(s.services, "bfqt") != "" || strings.Trim(s.types, "sco") != "" {
			return nil, true, authFailed("ss must be of b, f, q, t and srt of s, c, o.")
		}
	} else if s.resource != "c" && s.resource != "b" {
		return nil, true, authFailed("sr must be c or b: armlet serves container and blob service SAS (sr=" + s.resource + ").")
	}
	if s.permissions == "" || strings.Trim(s.permissions, "racwdxltmeopfi") != "" {
		return nil, true, authFailed("sp is mandatory and must be of the permission letters racwdxltmeopfi: " + s.permissions)
	}
	return s, true, nil
}

// parseSASTime reads the ISO 8601 forms Storage accepts for st and se.
func parseSASTime(v string) (time.Time, error) {
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z", "2006-01-02"} {
		var t time.Time
		if t, err = time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// stringToSign is what the account key signs for s: for a service SAS
// storagesas's, which armlet's providers sign with too.
func (s *sas) stringToSign(account, container, blob string) string {
	if s.account() {
		parts := []string{account, s.permissions, s.services, s.types, s.rawStart, s.rawExpiry, s.ip, s.protocol, s.version}
		if s.version >= "2020-12-06" {
			parts = append(parts, s.encScope)
		}
		return strings.Join(append(parts, ""), "\n")
	}
	return storagesas.Service{
		Version: s.version, Resource: s.resource, Permissions: s.permissions, Start: s.rawStart, Expiry: s.rawExpiry,
		Identifier: s.identifier, IP: s.ip, Protocol: s.protocol, Snapshot: s.snapshot, EncScope: s.encScope,
		CacheControl: s.rscc, ContentDisposition: s.rscd, ContentEncoding: s.rsce, ContentLanguage: s.rscl, ContentType: s.rsct,
	}.StringToSign(account, container, blob)
}

// authorize checks s for an operation: the signature against the keys,
// the validity window on the wall clock now, the service, the resource it
// covers and the permission the operation needs.
func (s *sas) authorize(account string, keys []string, container, blob string, o op, now time.Time) error {
	sts := s.stringToSign(account, container, blob)
	valid := false
	for _, k := range keys {
		if want, ok := sign(k, sts); ok && sameSignature(want, s.signature) {
			valid = true
		}
	}
	if !valid {
		return authFailed("Signature did not match. String to sign used was " + strings.ReplaceAll(sts, "\n", "\\n"))
	}
	if now.Before(s.start) || !now.Before(s.expiry) {
		return authFailed("Signature not valid in the specified time frame: Start [" + s.rawStart + "] - Expiry [" + s.rawExpiry + "] - Current [" + now.UTC().Format(http.TimeFormat) + "]")
	}
	if s.account() {
		if !strings.Contains(s.services, "b") {
			return storageErr(http.StatusForbidden, CodeServiceMismatch, "This request is not authorized to perform this operation using this service.")
		}
		if !strings.ContainsRune(s.types, rune(o.level)) {
			return storageErr(http.StatusForbidden, CodeResourceTypeMismatch, "This request is not authorized to perform this operation using this resource type.")
		}
	} else {
		// A service SAS covers one container's blobs (sr=c) or one blob
		// (sr=b): of the container operations only List Blobs (sr=c), of
		// the account's only Get Account Information.
		switch {
		case o.level == levelObject:
		case o.level == levelContainer && o.sasContainerOK && s.resource == "c":
		case o.level == levelService && o.sasContainerOK:
		default:
			return storageErr(http.StatusForbidden, CodeResourceTypeMismatch, "This request is not authorized to perform this operation using this resource type.")
		}
	}
	if !strings.ContainsAny(s.permissions, o.sas) {
		return permissionMismatch()
	}
	return nil
}
