package foldcase

import (
	"strings"
	"testing"
)

func TestAppendLower(t *testing.T) {
	for _, s := range []string{"", "abc", "Microsoft.MachineLearningServices/workspaces", "ÄÖÜ-Straße", "İstanbul", "a\xffB", "K"} {
		if got, want := string(AppendLower([]byte("x:"), s)), "x:"+strings.ToLower(s); got != want {
			t.Errorf("AppendLower(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestAppendLowerMapIndexDoesNotAllocate(t *testing.T) {
	m := map[string]int{"microsoft.machinelearningservices/workspaces": 1}
	var buf [64]byte
	var got int
	if n := testing.AllocsPerRun(100, func() {
		got = m[string(AppendLower(buf[:0], "Microsoft.MachineLearningServices/workspaces"))]
	}); n != 0 || got != 1 {
		t.Errorf("%v allocations, value %d", n, got)
	}
}

func TestPrefixSuffix(t *testing.T) {
	for _, tc := range []struct {
		s, affix     string
		prefix, suff bool
	}{
		{"Microsoft.Resources/deployments", "microsoft.resources/", true, false},
		{"Microsoft.ML/locations", "/LOCATIONS", false, true},
		{"ab", "abc", false, false},
		{"", "", true, true},
	} {
		if got := HasPrefix(tc.s, tc.affix); got != tc.prefix {
			t.Errorf("HasPrefix(%q, %q) = %v", tc.s, tc.affix, got)
		}
		if got := HasSuffix(tc.s, tc.affix); got != tc.suff {
			t.Errorf("HasSuffix(%q, %q) = %v", tc.s, tc.affix, got)
		}
	}
}

func FuzzAppendLower(f *testing.F) {
	f.Add("Microsoft.Storage/storageAccounts")
	f.Add("ǅ\u0130")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(AppendLower(nil, s)), strings.ToLower(s); got != want {
			t.Fatalf("AppendLower(%q) = %q, want %q", s, got, want)
		}
	})
}
