package blobapi

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/netmodel"
)

func blockID(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestBlockListSemantics: Put Block List takes each entry from the list
// it names (Latest: uncommitted first), keeps a committed block another
// commit names, refuses a block nobody put (InvalidBlockList), and Get
// Block List shows both lists.
func TestBlockListSemantics(t *testing.T) {
	v := newEnv(t)
	v.account("acct1", "")
	v.must("acct1", "PUT", "/ctr?restype=container", nil, "", http.StatusCreated)
	put := func(id, content string) {
		v.must("acct1", "PUT", "/ctr/b?comp=block&blockid="+blockID(id), nil, content, http.StatusCreated)
	}
	commit := func(list string, status int) result {
		return v.must("acct1", "PUT", "/ctr/b?comp=blocklist", nil, `<?xml version="1.0" encoding="utf-8"?><BlockList>`+list+`</BlockList>`, status)
	}
	put("A", "aaa")
	put("B", "bb")
	commit("<Latest>"+blockID("A")+"</Latest><Latest>"+blockID("B")+"</Latest>", http.StatusCreated)
	if got := v.must("acct1", "GET", "/ctr/b", nil, "", http.StatusOK).body; got != "aaabb" {
		t.Fatalf("content %q", got)
	}
	put("A", "AAAA")
	bl := v.must("acct1", "GET", "/ctr/b?comp=blocklist&blocklisttype=all", nil, "", http.StatusOK).body
	if !strings.Contains(bl, "<CommittedBlocks><Block><Name>"+blockID("A")+"</Name><Size>3</Size>") || !strings.Contains(bl, "<UncommittedBlocks><Block><Name>"+blockID("A")+"</Name><Size>4</Size>") {
		t.Errorf("block list: %s", bl)
	}
	commit("<Committed>"+blockID("B")+"</Committed><Uncommitted>"+blockID("A")+"</Uncommitted><Committed>"+blockID("B")+"</Committed>", http.StatusCreated)
	if got := v.must("acct1", "GET", "/ctr/b", nil, "", http.StatusOK).body; got != "bbAAAAbb" {
		t.Fatalf("content %q, want bbAAAAbb", got)
	}
	if r := commit("<Uncommitted>"+blockID("Z")+"</Uncommitted>", http.StatusBadRequest); r.code != CodeInvalidBlockList {
		t.Errorf("an unknown block: %s", r.code)
	}
	if r := commit("<Committed>"+blockID("A")+"</Committed><Committed>"+blockID("Q")+"</Committed>", http.StatusBadRequest); r.code != CodeInvalidBlockList {
		t.Errorf("a block not committed: %s", r.code)
	}
	// Files: the two blocks of the blob, nothing else.
	if ents, _ := os.ReadDir(v.dir); len(ents) != 2 {
		t.Errorf("%d content files, want 2", len(ents))
	}
	v.must("acct1", "DELETE", "/ctr/b", nil, "", http.StatusAccepted)
	if ents, _ := os.ReadDir(v.dir); len(ents) != 0 {
		t.Errorf("%d content files after the delete, want 0", len(ents))
	}
}

// TestListBlobsPaging: List Blobs with a delimiter and maxresults pages
// through names and prefixes once each, the marker resuming after a
// prefix past every name under it.
func TestListBlobsPaging(t *testing.T) {
	v := newEnv(t)
	v.account("acct1", "")
	v.must("acct1", "PUT", "/ctr?restype=container", nil, "", http.StatusCreated)
	for _, n := range []string{"a", "d/1", "d/2", "d/3", "e", "f/g/h"} {
		v.must("acct1", "PUT", "/ctr/"+n, map[string]string{"x-ms-blob-type": "BlockBlob"}, "x", http.StatusCreated)
	}
	var got []string
	marker := ""
	for range 10 {
		body := v.must("acct1", "GET", "/ctr?restype=container&comp=list&delimiter=/&maxresults=1&marker="+marker, nil, "", http.StatusOK).body
		for _, part := range strings.Split(body, "<Name>")[1:] {
			name, _, _ := strings.Cut(part, "</Name>")
			got = append(got, name)
		}
		_, m, _ := strings.Cut(body, "<NextMarker>")
		marker, _, _ = strings.Cut(m, "</NextMarker>")
		if marker == "" {
			break
		}
	}
	if want := "a d/ e f/"; strings.Join(got, " ") != want {
		t.Errorf("pages: %v, want %s", got, want)
	}
}

// TestConditionsAndRanges: If-None-Match with the ETag is 304 on a read,
// If-Match with another ETag 412, If-None-Match * on an upload over an
// existing blob 409 BlobAlreadyExists; a range past the end is 416
// InvalidRange with Content-Range bytes */size; x-ms-range wins over Range.
func TestConditionsAndRanges(t *testing.T) {
	v := newEnv(t)
	v.account("acct1", "")
	v.must("acct1", "PUT", "/ctr?restype=container", nil, "", http.StatusCreated)
	up := v.must("acct1", "PUT", "/ctr/b", map[string]string{"x-ms-blob-type": "BlockBlob", "Content-Type": "text/plain"}, "0123456789", http.StatusCreated)
	etag := up.header.Get("ETag")
	v.must("acct1", "GET", "/ctr/b", map[string]string{"If-None-Match": etag}, "", http.StatusNotModified)
	if r := v.must("acct1", "GET", "/ctr/b", map[string]string{"If-Match": `"0x1"`}, "", http.StatusPreconditionFailed); r.code != CodeConditionNotMet {
		t.Errorf("If-Match another: %s", r.code)
	}
	if r := v.must("acct1", "PUT", "/ctr/b", map[string]string{"x-ms-blob-type": "BlockBlob", "If-None-Match": "*"}, "x", http.StatusConflict); r.code != CodeBlobAlreadyExists {
		t.Errorf("If-None-Match *: %s", r.code)
	}
	r := v.must("acct1", "GET", "/ctr/b", map[string]string{"Range": "bytes=20-"}, "", http.StatusRequestedRangeNotSatisfiable)
	if r.code != CodeInvalidRange || r.header.Get("Content-Range") != "bytes */10" {
		t.Errorf("a range past the end: %s %v", r.code, r.header)
	}
	r = v.must("acct1", "GET", "/ctr/b", map[string]string{"Range": "bytes=0-0", "x-ms-range": "bytes=2-4", "x-ms-range-get-content-md5": "true"}, "", http.StatusPartialContent)
	if r.body != "234" || r.header.Get("Content-Range") != "bytes 2-4/10" || r.header.Get("Content-MD5") == "" || r.header.Get("x-ms-blob-content-md5") == "" {
		t.Errorf("ranged GET: %q %v", r.body, r.header)
	}
	for _, target := range []string{"/?restype=account&comp=properties", "/ctr?restype=account&comp=properties", "/ctr/b?restype=account&comp=properties"} {
		if h := v.must("acct1", "GET", target, nil, "", http.StatusOK).header; h.Get("x-ms-sku-name") != "Standard_LRS" || h.Get("x-ms-account-kind") != "StorageV2" {
			t.Errorf("Get Account Information at %s: %v", target, h)
		}
	}
	h := v.must("acct1", "HEAD", "/ctr/b", nil, "", http.StatusOK).header
	if h.Get("x-ms-blob-type") != "BlockBlob" || h.Get("Content-Type") != "text/plain" || h.Get("Content-MD5") == "" || h.Get("x-ms-version") != "2025-11-05" {
		t.Errorf("HEAD: %v", h)
	}
}

// TestPrivateEndpointOrigin: on an account whose public network access
// is disabled, a request is refused (403 AuthorizationFailure) unless its
// origin is a private endpoint to that account's blob sub-resource
// (group id compared ignoring case), which makes it private.
func TestPrivateEndpointOrigin(t *testing.T) {
	v := newEnv(t)
	v.account("acct1", `"publicNetworkAccess":"Disabled"`)
	v.account("acct2", "")
	id := func(name string) resourceid.ID {
		i, err := resourceid.Parse(acctPath + name)
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	via := func(target resourceid.ID, group string) context.Context {
		return netmodel.WithOrigin(context.Background(), netmodel.Origin{Endpoint: &netmodel.Endpoint{TargetID: target, GroupID: group}})
	}
	for _, c := range []struct {
		name   string
		ctx    context.Context
		status int
	}{
		{"public", context.Background(), http.StatusForbidden},
		{"private endpoint to the account's blob", via(id("ACCT1"), "BLOB"), http.StatusCreated},
		{"private endpoint to another account", via(id("acct2"), "blob"), http.StatusForbidden},
		{"private endpoint to the account's file", via(id("acct1"), "file"), http.StatusForbidden},
	} {
		r := v.do(c.ctx, "acct1", "PUT", "/c-"+strings.ReplaceAll(strings.ToLower(c.name[:6]), " ", "")+"?restype=container", nil, "")
		if r.status != c.status || (r.status == http.StatusForbidden && r.code != CodeAuthorizationFailure) {
			t.Errorf("%s: %d %s, want %d", c.name, r.status, r.code, c.status)
		}
		if r.target.Private != (c.status == http.StatusCreated) || r.target.Operation != actContainerWrite {
			t.Errorf("%s: target %+v", c.name, r.target)
		}
	}
	// The network rules come before the path and the credentials.
	for _, target := range []string{"/Bad_Name?restype=container", "/ctr/b?comp=nonsense"} {
		if r := v.do(context.Background(), "acct1", "PUT", target, map[string]string{"Authorization": ""}, ""); r.code != CodeAuthorizationFailure {
			t.Errorf("public PUT %s without credentials: %d %s, want 403 AuthorizationFailure", target, r.status, r.code)
		}
	}
}

// TestBadInputIsRefused: malformed input is a 4xx (or 501 for what is
// not served) with Storage's code, never an internal error.
func TestBadInputIsRefused(t *testing.T) {
	v := newEnv(t)
	v.account("acct1", "")
	v.must("acct1", "PUT", "/ctr?restype=container", nil, "", http.StatusCreated)
	v.must("acct1", "PUT", "/ctr/b", map[string]string{"x-ms-blob-type": "BlockBlob"}, "x", http.StatusCreated)
	bb := map[string]string{"x-ms-blob-type": "BlockBlob"}
	for _, c := range []struct {
		name, method, target string
		header               map[string]string
		body                 string
		status               int
		code                 string
	}{
		{"version not a date", "GET", "/ctr/b", map[string]string{"x-ms-version": "latest"}, "", 400, CodeInvalidHeaderValue},
		{"no authentication", "GET", "/ctr/b", map[string]string{"Authorization": ""}, "", 401, CodeNoAuthenticationInfo},
		{"a bad token", "GET", "/ctr/b", map[string]string{"Authorization": "Bearer bad"}, "", 401, CodeInvalidAuthenticationInf},
		{"an unknown scheme", "GET", "/ctr/b", map[string]string{"Authorization": "Basic eA=="}, "", 401, CodeInvalidAuthenticationInf},
		{"a SharedKey without a signature", "GET", "/ctr/b", map[string]string{"Authorization": "SharedKey acct1"}, "", 403, CodeInvalidAuthenticationInf},
		{"a SharedKey of another account", "GET", "/ctr/b", map[string]string{"Authorization": "SharedKey other:c2ln"}, "", 403, CodeAuthenticationFailed},
		{"a SAS without sv", "GET", "/ctr/b?sig=x&se=2099-01-01&sp=r&sr=b", map[string]string{"Authorization": ""}, "", 403, CodeAuthenticationFailed},
		{"a SAS of an old version", "GET", "/ctr/b?sv=2015-04-05&sig=x&se=2099-01-01&sp=r&sr=b", map[string]string{"Authorization": ""}, "", 403, CodeAuthenticationFailed},
		{"a SAS with a bad expiry", "GET", "/ctr/b?sv=2022-11-02&sig=x&se=tomorrow&sp=r&sr=b", map[string]string{"Authorization": ""}, "", 403, CodeAuthenticationFailed},
		{"a SAS with a bad signature", "GET", "/ctr/b?sv=2022-11-02&sig=x&se=2099-01-01&sp=r&sr=b", map[string]string{"Authorization": ""}, "", 403, CodeAuthenticationFailed},
		{"a bad container name", "PUT", "/C_1?restype=container", nil, "", 400, CodeInvalidURI},
		{"the root container", "GET", "/$root/b", nil, "", 400, CodeFeatureNotSupported},
		{"a missing container", "GET", "/ct2/b", nil, "", 404, CodeContainerNotFound},
		{"a missing blob", "GET", "/ctr/nope", nil, "", 404, CodeBlobNotFound},
		{"a container exists", "PUT", "/ctr?restype=container", nil, "", 409, CodeContainerAlreadyExists},
		{"public access the account refuses", "PUT", "/pub?restype=container", map[string]string{"x-ms-blob-public-access": "blob"}, "", 409, CodePublicAccessNotPermitted},
		{"a bad public access", "PUT", "/pub?restype=container", map[string]string{"x-ms-blob-public-access": "all"}, "", 400, CodeInvalidHeaderValue},
		{"no blob type", "PUT", "/ctr/x", nil, "x", 400, CodeMissingHeader},
		{"a page blob", "PUT", "/ctr/x", map[string]string{"x-ms-blob-type": "PageBlob"}, "", 400, CodeFeatureNotSupported},
		{"a bad metadata name", "PUT", "/ctr/x", map[string]string{"x-ms-blob-type": "BlockBlob", "x-ms-meta-1a": "v"}, "x", 400, CodeInvalidMetadata},
		{"a bad MD5", "PUT", "/ctr/x", map[string]string{"x-ms-blob-type": "BlockBlob", "Content-MD5": "nope"}, "x", 400, CodeInvalidHeaderValue},
		{"a wrong MD5", "PUT", "/ctr/x", map[string]string{"x-ms-blob-type": "BlockBlob", "Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="}, "x", 400, CodeMD5Mismatch},
		{"a blob over 5000 MiB", "PUT", "/ctr/x", map[string]string{"x-ms-blob-type": "BlockBlob", "Content-Length": strconv.Itoa(5000<<20 + 1)}, "x", 413, CodeRequestBodyTooLarge},
		{"a block over 4000 MiB", "PUT", "/ctr/x?comp=block&blockid=" + blockID("A"), map[string]string{"Content-Length": strconv.Itoa(4000<<20 + 1)}, "x", 413, CodeRequestBodyTooLarge},
		{"a block without a length", "PUT", "/ctr/x?comp=block&blockid=" + blockID("A"), map[string]string{"Content-Length": "-1"}, "x", 411, CodeMissingContentLength},
		{"no block id", "PUT", "/ctr/x?comp=block", nil, "x", 400, CodeMissingQueryParameter},
		{"a bad block id", "PUT", "/ctr/x?comp=block&blockid=!!!", nil, "x", 400, CodeInvalidQueryParameter},
		{"a block list not XML", "PUT", "/ctr/x?comp=blocklist", nil, "<BlockList><Latest>", 400, CodeInvalidXML},
		{"a block list of another root", "PUT", "/ctr/x?comp=blocklist", nil, "<Other/>", 400, CodeInvalidXML},
		{"a block list with a bad id", "PUT", "/ctr/x?comp=blocklist", nil, "<BlockList><Latest>!!</Latest></BlockList>", 400, CodeInvalidBlockList},
		{"a bad range", "GET", "/ctr/b", map[string]string{"x-ms-range": "bytes=5-1"}, "", 400, CodeInvalidHeaderValue},
		{"two ranges", "GET", "/ctr/b", map[string]string{"Range": "bytes=0-0,1-1"}, "", 400, CodeInvalidHeaderValue},
		{"maxresults 0", "GET", "/ctr?restype=container&comp=list&maxresults=0", nil, "", 400, CodeOutOfRangeQuery},
		{"a bad marker", "GET", "/ctr?restype=container&comp=list&marker=%25%25", nil, "", 400, CodeInvalidQueryParameter},
		{"a bad include", "GET", "/ctr?restype=container&comp=list&include=secrets", nil, "", 400, CodeInvalidQueryParameter},
		{"a bad blocklisttype", "GET", "/ctr/b?comp=blocklist&blocklisttype=some", nil, "", 400, CodeInvalidQueryParameter},
		{"a bad restype", "GET", "/ctr?restype=service", nil, "", 400, CodeInvalidQueryParameter},
		{"an operation not served", "PUT", "/ctr/b?comp=lease", nil, "", 501, CodeNotImplemented},
		{"a verb not served", "POST", "/ctr/b", nil, "", 400, CodeUnsupportedHTTPVerb},
		{"a bad If-Modified-Since", "GET", "/ctr/b", map[string]string{"If-Modified-Since": "yesterday"}, "", 400, CodeInvalidHeaderValue},
		{"a NUL in a blob name", "PUT", "/ctr/a%00QUFB", bb, "x", 400, CodeInvalidResourceName},
		{"a name that is not UTF-8", "PUT", "/ctr/a%FF", bb, "x", 400, CodeInvalidResourceName},
		{"a blob type and a long name", "PUT", "/ctr/" + strings.Repeat("n", 1025), bb, "", 400, CodeOutOfRangeInput},
	} {
		r := v.do(context.Background(), "acct1", c.method, c.target, c.header, c.body)
		if r.status != c.status || r.code != c.code {
			t.Errorf("%s: %d %s (%s), want %d %s", c.name, r.status, r.code, r.body, c.status, c.code)
		}
		if v := r.header.Get("x-ms-version"); v != "2025-11-05" && c.name != "version not a date" {
			t.Errorf("%s: x-ms-version %q on the error", c.name, v)
		}
	}
}

// TestDeletesThroughARMRemoveBlobs: deleting an account, or the resource
// group holding one, through ARM removes its blobs' records and files; a
// container made again under the same name is empty.
func TestDeletesThroughARMRemoveBlobs(t *testing.T) {
	v := newEnv(t)
	for _, what := range []string{"account", "group"} {
		v.account("acct1", "")
		v.must("acct1", "PUT", "/ctr?restype=container", nil, "", http.StatusCreated)
		v.must("acct1", "PUT", "/ctr/b?comp=block&blockid="+blockID("A"), nil, "uncommitted", http.StatusCreated)
		v.must("acct1", "PUT", "/ctr/c", map[string]string{"x-ms-blob-type": "BlockBlob"}, "committed", http.StatusCreated)
		if ents, _ := os.ReadDir(v.dir); len(ents) != 2 {
			t.Fatalf("%s: %d content files, want 2", what, len(ents))
		}
		if what == "account" {
			v.Must(http.MethodDelete, acctPath+"acct1", api, "", http.StatusOK)
		} else {
			if _, err := v.Serve(http.MethodDelete, enginetest.GroupPath, "2021-04-01", ""); err != nil {
				t.Fatal(err)
			}
			v.Advance(time.Hour)
			if err := v.Engine.ReapDue(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if ents, _ := os.ReadDir(v.dir); len(ents) != 0 {
			t.Errorf("%s deleted: %d content files left", what, len(ents))
		}
		if left, _ := v.s.meta.v.Scan(context.Background(), nil, nil, 0); len(left) != 0 {
			t.Errorf("%s deleted: %d blob records left", what, len(left))
		}
		if what == "group" {
			break
		}
		v.account("acct1", "")
		v.must("acct1", "PUT", "/ctr?restype=container", nil, "", http.StatusCreated)
		if r := v.do(context.Background(), "acct1", "GET", "/ctr/c", nil, ""); r.code != CodeBlobNotFound {
			t.Errorf("a blob of the deleted account in the new one: %d %s", r.status, r.code)
		}
		v.must("acct1", "DELETE", "/ctr?restype=container", nil, "", http.StatusAccepted)
	}
}

// TestAccountOf: an account's blob and dfs host names, in any case, name
// it; look-alikes and malformed names name none.
func TestAccountOf(t *testing.T) {
	for host, want := range map[string]string{
		"acct1.blob.core.windows.net":             "acct1",
		"ACCT1.Blob.Core.Windows.Net":             "acct1",
		"acct1.dfs.core.windows.net":              "acct1",
		"acct1.file.core.windows.net":             "",
		"a.blob.core.windows.net":                 "",
		"acct-1.blob.core.windows.net":            "",
		"x.acct1.blob.core.windows.net":           "",
		"acct1.blob.core.windows.net.evil.com":    "",
		"acct1.privatelink.blob.core.windows.net": "acct1",
		"acct1.privatelink.dfs.core.windows.net":  "acct1",
		"acct1.privatelink.file.core.windows.net": "",
		"blob.core.windows.net":                   "",
	} {
		if got := AccountOf(host); got != want {
			t.Errorf("AccountOf(%q) = %q, want %q", host, got, want)
		}
	}
	v := newEnv(t)
	v.account("acct1", "")
	r := httptestDFS(t, v)
	if r.status != http.StatusCreated {
		t.Errorf("a container made at the dfs host: %d %s", r.status, r.code)
	}
}

// httptestDFS creates a container through the account's dfs host.
func httptestDFS(t *testing.T, v *env) result {
	t.Helper()
	r := httptest.NewRequest("PUT", "https://acct1.dfs.core.windows.net/fromdfs?restype=container", nil)
	r.Header.Set("Authorization", "Bearer good")
	resp, _, err := v.s.Serve(context.Background(), r.Host, r)
	if err != nil {
		ae, _ := arm.AsError(err)
		return result{status: ae.Status, code: ae.Code}
	}
	return result{status: resp.Status}
}

// TestConcurrentBlockAndCommit: a block put again while a Put Block List
// commits it: each answers 201 or 409, and the committed blob reads
// whole. (A smoke test under -race: the interleaving that the
// conditional writes of Put Block and Put Block List guard against is
// too narrow for it to hit reliably.)
func TestConcurrentBlockAndCommit(t *testing.T) {
	v := newEnv(t)
	v.account("acct1", "")
	v.must("acct1", "PUT", "/ctr?restype=container", nil, "", http.StatusCreated)
	list := `<BlockList><Latest>` + blockID("A") + `</Latest></BlockList>`
	for i := range 30 {
		name := "/ctr/b" + strings.Repeat("x", i)
		v.must("acct1", "PUT", name+"?comp=block&blockid="+blockID("A"), nil, "first", http.StatusCreated)
		done := make(chan result, 2)
		go func() {
			done <- v.do(context.Background(), "acct1", "PUT", name+"?comp=block&blockid="+blockID("A"), nil, "second")
		}()
		go func() { done <- v.do(context.Background(), "acct1", "PUT", name+"?comp=blocklist", nil, list) }()
		for range 2 {
			if r := <-done; r.status != http.StatusCreated && r.status != http.StatusConflict {
				t.Fatalf("round %d: %d %s %s", i, r.status, r.code, r.body)
			}
		}
		r := v.do(context.Background(), "acct1", "GET", name, nil, "")
		if r.status == http.StatusOK && r.body != "first" && r.body != "second" {
			t.Errorf("round %d: the blob reads %q", i, r.body)
		}
	}
}

// TestNoContentDirectory: without a content directory (the etcd store)
// containers and lists are served, and Put Blob and Put Block are 501
// NotImplemented saying why.
func TestNoContentDirectory(t *testing.T) {
	v := newEnv(t)
	v.s.files = files{}
	v.account("acct1", "")
	v.must("acct1", "PUT", "/ctr?restype=container", nil, "", http.StatusCreated)
	v.must("acct1", "GET", "/ctr?restype=container&comp=list", nil, "", http.StatusOK)
	for _, target := range []string{"/ctr/b", "/ctr/b?comp=block&blockid=" + blockID("A")} {
		r := v.do(context.Background(), "acct1", "PUT", target, map[string]string{"x-ms-blob-type": "BlockBlob"}, "x")
		if r.status != http.StatusNotImplemented || r.code != CodeNotImplemented || !strings.Contains(r.body, "etcd") {
			t.Errorf("PUT %s: %d %s %s", target, r.status, r.code, r.body)
		}
	}
}

// TestAnonymousAccess: with the account's allowBlobPublicAccess true, an
// anonymous request reads the blobs of a container whose publicAccess is
// Blob, and also lists and reads a Container one; it writes nothing, and
// reads nothing of a private container, nor anything once the account
// turns public access off.
func TestAnonymousAccess(t *testing.T) {
	v := newEnv(t)
	v.account("acct1", `"allowBlobPublicAccess":true`)
	for ctr, access := range map[string]string{"pubblob": "blob", "pubctr": "container", "priv": ""} {
		v.must("acct1", "PUT", "/"+ctr+"?restype=container", map[string]string{"x-ms-blob-public-access": access}, "", http.StatusCreated)
		v.must("acct1", "PUT", "/"+ctr+"/b", map[string]string{"x-ms-blob-type": "BlockBlob"}, "public?", http.StatusCreated)
	}
	anon := map[string]string{"Authorization": ""}
	for _, c := range []struct {
		method, target string
		status         int
	}{
		{"GET", "/pubblob/b", http.StatusOK},
		{"HEAD", "/pubblob/b", http.StatusOK},
		{"GET", "/pubblob?restype=container&comp=list", http.StatusUnauthorized},
		{"GET", "/pubblob?restype=container", http.StatusUnauthorized},
		{"PUT", "/pubblob/x", http.StatusUnauthorized},
		{"GET", "/pubctr/b", http.StatusOK},
		{"GET", "/pubctr?restype=container&comp=list", http.StatusOK},
		{"GET", "/pubctr?restype=container", http.StatusOK},
		{"DELETE", "/pubctr/b", http.StatusUnauthorized},
		{"PUT", "/pubctr?restype=container&comp=metadata", http.StatusUnauthorized},
		{"GET", "/priv/b", http.StatusUnauthorized},
		{"GET", "/?comp=list", http.StatusUnauthorized},
	} {
		header := map[string]string{"Authorization": "", "x-ms-blob-type": "BlockBlob"}
		if r := v.do(context.Background(), "acct1", c.method, c.target, header, "x"); r.status != c.status {
			t.Errorf("anonymous %s %s: %d %s, want %d", c.method, c.target, r.status, r.code, c.status)
		}
	}
	v.Must(http.MethodPatch, acctPath+"acct1", api, `{"properties":{"allowBlobPublicAccess":false}}`, http.StatusOK)
	if r := v.do(context.Background(), "acct1", "GET", "/pubctr/b", anon, ""); r.status != http.StatusUnauthorized {
		t.Errorf("anonymous GET once the account disallows public access: %d", r.status)
	}
}

// TestPutBlockMD5: from version 2019-02-02 on Put Block answers the
// block's Content-MD5 only when the request sent one (and checks it);
// older versions always get it. Put Blob always stores the blob's MD5.
func TestPutBlockMD5(t *testing.T) {
	v := newEnv(t)
	v.account("acct1", "")
	v.must("acct1", "PUT", "/ctr?restype=container", nil, "", http.StatusCreated)
	sum := md5.Sum([]byte("block"))
	want := base64.StdEncoding.EncodeToString(sum[:])
	for _, tc := range []struct {
		name   string
		header map[string]string
		status int
		md5    string
	}{
		{"no Content-MD5, a current version", map[string]string{"x-ms-version": "2025-11-05"}, http.StatusCreated, ""},
		{"Content-MD5 sent", map[string]string{"x-ms-version": "2025-11-05", "Content-MD5": want}, http.StatusCreated, want},
		{"a wrong Content-MD5", map[string]string{"x-ms-version": "2025-11-05", "Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="}, http.StatusBadRequest, ""},
		{"a version before 2019-02-02", map[string]string{"x-ms-version": "2018-11-09"}, http.StatusCreated, want},
	} {
		r := v.must("acct1", "PUT", "/ctr/b?comp=block&blockid="+blockID("A"), tc.header, "block", tc.status)
		if got := r.header.Get("Content-MD5"); got != tc.md5 {
			t.Errorf("%s: Content-MD5 %q, want %q", tc.name, got, tc.md5)
		}
	}
	v.must("acct1", "PUT", "/ctr/whole", map[string]string{"x-ms-blob-type": "BlockBlob"}, "block", http.StatusCreated)
	if got := v.must("acct1", "HEAD", "/ctr/whole", nil, "", http.StatusOK).header.Get("Content-MD5"); got != want {
		t.Errorf("Put Blob's stored Content-MD5 %q, want %q", got, want)
	}
}
