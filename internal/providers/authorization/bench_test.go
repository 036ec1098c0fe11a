package authorization

import (
	"context"
	"net/http"
	"testing"
)

// BenchmarkPublicARMDisabled measures the check the front door makes on
// every public ARM request, on both stores, for a tenant with no
// association, with an Enabled one, and with a Disabled one (other tenants'
// associations present in every case).
func BenchmarkPublicARMDisabled(b *testing.B) {
	stores := []struct {
		name string
		env  func(testing.TB) *env
	}{{"memkv", newEnv}, {"bolt", newBoltEnv}}
	for _, st := range stores {
		for _, c := range []struct{ name, access string }{{"none", ""}, {"enabled", "Enabled"}, {"disabled", "Disabled"}} {
			b.Run(st.name+"/"+c.name, func(b *testing.B) {
				v := st.env(b)
				v.must(tenantB, http.MethodPut, rmplB+"pl", ver, `{"location":"eastus"}`, http.StatusCreated)
				v.must(tenantB, http.MethodPut, plaB+"b", ver, association(rmplB+"pl", "Disabled"), http.StatusCreated)
				if c.access != "" {
					v.must(tenantA, http.MethodPut, rmplA+"pl", ver, `{"location":"eastus"}`, http.StatusCreated)
					v.must(tenantA, http.MethodPut, plaA+"a", ver, association(rmplA+"pl", c.access), http.StatusCreated)
				}
				want := c.access == "Disabled"
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					d, _, err := PublicARMDisabled(ctx, v.e, tenantA)
					if err != nil || d != want {
						b.Fatalf("PublicARMDisabled = %v, %v; want %v", d, err, want)
					}
				}
			})
		}
	}
}
