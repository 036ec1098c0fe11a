package expr

import "testing"

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
