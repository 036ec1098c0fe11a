package expr

import (
	"strings"
	"testing"
)

// uniqueString outputs Azure returned for real deployments, recorded in
// KingslandConsulting/Kingsland.ArmLinter,
// src/Kingsland.ArmLinter/Functions/ArmFunctions_UniqueString.cs
// ("example output" of a template deployed with New-AzResourceGroupDeployment).
func TestUniqueStringAzurePairs(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"aaa"}, "zavj67f3en4hc"},
		{[]string{"bbb"}, "w5eragfxe33cy"},
		{[]string{"zzz"}, "cryksdzzzawae"},
		{[]string{"xxx", "yyy", "zzz"}, "lghi7k5js7itq"},
	} {
		if got := UniqueString(tc.in...); got != tc.want {
			t.Errorf("uniqueString(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// guid() is a name-based (SHA-1, version 5) UUID in ARM's namespace over
// the arguments joined with "-" as UTF-8. No output recorded from Azure
// itself was found; the expected values are Python's uuid.uuid5 with that
// namespace, which public reimplementations (Terraform's uuidv5 and
// PowerShell scripts that name role assignments to match templates) use
// as ARM's guid(). The structure checks hold whatever the encoding.
func TestGuid(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"a", "b", "c"}, "a98fa280-e03f-5afa-8d8e-92d0a9c201e8"},
		{[]string{"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"}, "9aa66516-21bf-591d-8865-b805a6ac9414"},
	} {
		if got := Guid(tc.in...); got != tc.want {
			t.Errorf("guid(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	g := Guid("x")
	if len(g) != 36 || g[14] != '5' || !strings.ContainsRune("89ab", rune(g[19])) {
		t.Errorf("guid('x') = %s is not a version 5 RFC 4122 UUID", g)
	}
	if Guid("a", "b") == Guid("ab") {
		t.Error("guid('a', 'b') equals guid('ab'): the arguments are not joined with '-'")
	}
}
