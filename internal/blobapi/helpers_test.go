package blobapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
	"github.com/armlet/armlet/internal/engine/enginetest"
	"github.com/armlet/armlet/internal/kv"
	"github.com/armlet/armlet/internal/kv/memkv"
	"github.com/armlet/armlet/internal/providers/storage"
)

const (
	acctPath = enginetest.GroupPath + "/providers/Microsoft.Storage/storageAccounts/"
	api      = "2025-08-01"
)

// env is the blob service over an engine with the storage provider, its
// content in a temp dir; "Bearer good" authenticates as a caller every
// operation is allowed to.
type env struct {
	*enginetest.Env
	s   *Service
	dir string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvOn(t, enginetest.StartInGroup(t, registerStorage), nil)
}

// goodCaller is the object id "Bearer good" authenticates as.
const goodCaller = "5b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"

// registerStorage registers the storage provider.
func registerStorage(e *engine.Engine) { storage.Register(e, storage.Options{}) }

// newEnvOn is the blob service over v's engine (which serves the storage
// provider), authorizing with authorize (nil: every operation allowed).
func newEnvOn(t *testing.T, v *enginetest.Env, authorize Authorizer) *env {
	t.Helper()
	dir := t.TempDir()
	s := New(Options{
		Engine: v.Engine, Store: kv.SpaceBlob.Of(memkv.New()), Dir: dir, Authority: "https://login.example/tenant",
		Authenticate: func(_ context.Context, authz string) (engine.Caller, *arm.Error) {
			if authz == "Bearer good" {
				return engine.Caller{ObjectID: goodCaller}, nil
			}
			return engine.Caller{}, arm.Errorf(http.StatusUnauthorized, "InvalidAuthenticationToken", "bad token")
		},
		Authorize: authorize,
	})
	return &env{Env: v, s: s, dir: dir}
}

// account makes a storage account with the given properties.
func (v *env) account(name, props string) {
	v.T.Helper()
	resp, err := v.Serve(http.MethodPut, acctPath+name, api, `{"location":"eastus","sku":{"name":"Standard_LRS"},"kind":"StorageV2","properties":{`+props+`}}`)
	if err != nil || resp.Status >= 300 {
		v.T.Fatalf("PUT account %s: %v %v", name, resp, err)
	}
	v.Advance(2 * time.Second)
}

// result is a served request.
type result struct {
	status int
	header http.Header
	body   string
	code   string // the error's code
	target Target
}

// do sends one request to account's blob host as "Bearer good" unless
// header sets Authorization, in ctx (for its origin).
func (v *env) do(ctx context.Context, account, method, target string, header map[string]string, body string) result {
	v.T.Helper()
	r := httptest.NewRequest(method, "https://"+account+".blob.core.windows.net"+target, strings.NewReader(body))
	r = r.WithContext(ctx)
	r.Header.Set("Authorization", "Bearer good")
	r.Header.Set("x-ms-version", "2025-11-05")
	for k, val := range header {
		switch {
		case k == "Content-Length":
			// What the body announces, whatever it holds.
			r.ContentLength, _ = strconv.ParseInt(val, 10, 64)
		case val == "":
			r.Header.Del(k)
		default:
			r.Header.Set(k, val)
		}
	}
	resp, t, err := v.s.Serve(ctx, r.Host, r)
	if err != nil {
		ae, ok := arm.AsError(err)
		if !ok {
			v.T.Fatalf("%s %s: an internal error: %v", method, target, err)
		}
		return result{status: ae.Status, header: ae.Header, code: ae.Code, body: ae.Message, target: t}
	}
	out := result{status: resp.Status, header: resp.Header, target: t}
	switch b := resp.Body.(type) {
	case engine.RawBody:
		out.body = string(b.Data)
	case engine.StreamBody:
		if b.Reader != nil {
			data, err := io.ReadAll(b.Reader)
			b.Reader.Close()
			if err != nil {
				v.T.Fatal(err)
			}
			out.body = string(data)
		}
	}
	return out
}

// must is do that must answer status.
func (v *env) must(account, method, target string, header map[string]string, body string, status int) result {
	v.T.Helper()
	r := v.do(context.Background(), account, method, target, header, body)
	if r.status != status {
		v.T.Fatalf("%s %s = %d %s %s, want %d", method, target, r.status, r.code, r.body, status)
	}
	return r
}
