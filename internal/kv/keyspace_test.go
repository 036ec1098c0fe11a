package kv_test

import (
	"strings"
	"testing"

	"github.com/armlet/armlet/internal/kv"
)

// TestSpacesDisjoint: no prefix is a prefix of another (nor equal to it),
// so every key lies in at most one space and no view can list another
// space's keys as its own.
func TestSpacesDisjoint(t *testing.T) {
	all := kv.Spaces()
	for i, a := range all {
		for _, b := range all[i+1:] {
			if strings.HasPrefix(a.Prefix(), b.Prefix()) || strings.HasPrefix(b.Prefix(), a.Prefix()) {
				t.Errorf("%v (%q) and %v (%q) overlap", a, a.Prefix(), b, b.Prefix())
			}
		}
	}
}

// TestSpacesDeclared: every space says what it is, and names are unique.
func TestSpacesDeclared(t *testing.T) {
	names := map[string]kv.Space{}
	for _, s := range kv.Spaces() {
		if !s.Valid() || s.Prefix() == "" || s.Owner() == "" || s.Keys() == "" || s.Values() == "" {
			t.Errorf("space %d (%v) is not fully declared: prefix %q, owner %q, keys %q, values %q",
				s, s, s.Prefix(), s.Owner(), s.Keys(), s.Values())
		}
		if !strings.HasPrefix(s.Owner(), "internal/") {
			t.Errorf("%v: owner %q is not a package path below the module", s, s.Owner())
		}
		if s.ViaEngine() && s.Owner() == kv.OwnerEngine {
			t.Errorf("%v: the engine's own table is handed out by the engine", s)
		}
		if other, dup := names[s.String()]; dup {
			t.Errorf("%v and space %d share the name %q", other, s, s.String())
		}
		names[s.String()] = s
	}
	if kv.Space(0).Valid() || kv.Space(0).Prefix() != "" {
		t.Error("the zero Space is declared")
	}
}

// TestSpacePrefixes pins the prefixes: they are stored data, and a
// changed byte would orphan every key written before.
func TestSpacePrefixes(t *testing.T) {
	want := map[kv.Space]string{
		kv.SpaceResources:     "r\x00",
		kv.SpaceTypeIndex:     "t\x00",
		kv.SpaceGroupIndex:    "g\x00",
		kv.SpaceOperations:    "o\x00",
		kv.SpaceDue:           "d\x00",
		kv.SpaceRegistrations: "p\x00",
		kv.SpaceArmlet:        "m\x00",
		kv.SpaceIdentity:      "identity/",
		kv.SpaceSharedCA:      "certs\x00",
		kv.SpaceWorkspaceData: "w\x00",
		kv.SpaceNetwork:       "n\x00",
		kv.SpaceNetModel:      "nm\x00",
		kv.SpacePolicy:        "policy",
		kv.SpaceRBAC:          "rbac\x00",
		kv.SpaceMLQuotas:      "mlq\x00",
		kv.SpaceWrites:        "x\x00",
		kv.SpaceBlob:          "blob\x00",
		kv.SpaceKeyVault:      "kv\x00",
	}
	if len(want) != len(kv.Spaces()) {
		t.Errorf("%d spaces declared, %d pinned here: pin the new one's prefix", len(kv.Spaces()), len(want))
	}
	for s, p := range want {
		if s.Prefix() != p {
			t.Errorf("%v: prefix %q, want %q", s, s.Prefix(), p)
		}
	}
}

func TestHolding(t *testing.T) {
	tests := []struct {
		key  string
		want kv.Space // 0: none
	}{
		{"r\x00\x00subscriptions\x00s1", kv.SpaceResources},
		{"n\x00ip\x00x", kv.SpaceNetwork},
		{"nm\x00flowmeta", kv.SpaceNetModel},
		{"policygeneration", kv.SpacePolicy},
		{"policystate/s/x|a|b|c", kv.SpacePolicy},
		{"rbac\x00changed", kv.SpaceRBAC},
		{"identity/principals/abc", kv.SpaceIdentity},
		{"r", 0},
		{"rbac", 0},
		{"x\x00written", kv.SpaceWrites},
		{"y\x00", 0},
		{"", 0},
	}
	for _, tt := range tests {
		got, ok := kv.Holding([]byte(tt.key))
		if got != tt.want || ok != (tt.want != 0) {
			t.Errorf("Holding(%q) = %v, %v; want %v", tt.key, got, ok, tt.want)
		}
	}
}
