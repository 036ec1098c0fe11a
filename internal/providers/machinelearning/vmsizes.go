package machinelearning

import (
	"math"
	"net/http"
	"regexp"
	"strings"

	"github.com/armlet/armlet/internal/engine"
)

// The VM size catalogue of GET
// /subscriptions/{s}/providers/Microsoft.MachineLearningServices/locations/{l}/vmSizes
// (VirtualMachineSizeListResult): the sizes Azure ML offers for its
// computes, with the members of Azure's example (VirtualMachineSize/list.json).
//
// Sources: names, families (the quota family, as the example's
// "standardDSv2Family"), vCPUs, GPUs, memory and the temporary disk
// (maxResourceVolumeMB) are Azure's published VM size specifications
// (learn.microsoft.com/azure/virtual-machines/sizes), transcribed by hand;
// osVhdSizeMB is the example's 1047552 (the 1023 GiB OS disk limit) for
// every size.
//
// Choice: every region armlet offers (Locations) has the whole catalogue;
// Azure's differs per region (GPU sizes are missing from many).
//
// Choice: estimatedVMPrices are illustrative, not Azure's prices: the
// Linux pay-as-you-go price is near East US list prices when transcribed
// (linuxPrice), Windows adds 0.046 USD per vCPU, and low priority costs a
// fifth of either, in USD per hour, the same in every region. Never rely
// on them for costs.
//
// Choice: supportedComputeTypes is AmlCompute and ComputeInstance for
// every size, plus MIR (managed online endpoints) for the sizes Azure ML's
// managed online endpoints list (2 vCPUs or more, not the oldest D and
// NC families).
type vmSize struct {
	name       string
	family     string
	vCPUs      int
	gpus       int
	memoryGB   float64
	tempDiskMB int
	premiumIO  bool
	linuxPrice float64 // USD per hour, illustrative
	mir        bool
}

// vmOSDiskMB is osVhdSizeMB of every size (Azure's example).
const vmOSDiskMB = 1047552

var vmSizes = []vmSize{
	{"Standard_D1_v2", "standardDv2Family", 1, 0, 3.5, 51200, false, 0.057, false},
	{"Standard_D2_v2", "standardDv2Family", 2, 0, 7, 102400, false, 0.114, false},
	{"Standard_D3_v2", "standardDv2Family", 4, 0, 14, 204800, false, 0.229, false},
	{"Standard_D4_v2", "standardDv2Family", 8, 0, 28, 409600, false, 0.458, false},
	{"Standard_D11_v2", "standardDv2Family", 2, 0, 14, 102400, false, 0.148, false},
	{"Standard_D12_v2", "standardDv2Family", 4, 0, 28, 204800, false, 0.296, false},
	{"Standard_D13_v2", "standardDv2Family", 8, 0, 56, 409600, false, 0.593, false},
	{"Standard_D14_v2", "standardDv2Family", 16, 0, 112, 819200, false, 1.186, false},
	{"Standard_DS1_v2", "standardDSv2Family", 1, 0, 3.5, 7168, true, 0.073, false},
	{"Standard_DS2_v2", "standardDSv2Family", 2, 0, 7, 14336, true, 0.146, true},
	{"Standard_DS3_v2", "standardDSv2Family", 4, 0, 14, 28672, true, 0.293, true},
	{"Standard_DS4_v2", "standardDSv2Family", 8, 0, 28, 57344, true, 0.585, true},
	{"Standard_DS5_v2", "standardDSv2Family", 16, 0, 56, 114688, true, 1.17, true},
	{"Standard_DS11_v2", "standardDSv2Family", 2, 0, 14, 28672, true, 0.185, true},
	{"Standard_DS12_v2", "standardDSv2Family", 4, 0, 28, 57344, true, 0.371, true},
	{"Standard_DS13_v2", "standardDSv2Family", 8, 0, 56, 114688, true, 0.741, true},
	{"Standard_DS14_v2", "standardDSv2Family", 16, 0, 112, 229376, true, 1.482, true},
	{"Standard_D2_v3", "standardDv3Family", 2, 0, 8, 51200, false, 0.096, false},
	{"Standard_D4_v3", "standardDv3Family", 4, 0, 16, 102400, false, 0.192, false},
	{"Standard_D8_v3", "standardDv3Family", 8, 0, 32, 204800, false, 0.384, false},
	{"Standard_D16_v3", "standardDv3Family", 16, 0, 64, 409600, false, 0.768, false},
	{"Standard_D2s_v3", "standardDSv3Family", 2, 0, 8, 16384, true, 0.096, true},
	{"Standard_D4s_v3", "standardDSv3Family", 4, 0, 16, 32768, true, 0.192, true},
	{"Standard_D8s_v3", "standardDSv3Family", 8, 0, 32, 65536, true, 0.384, true},
	{"Standard_D16s_v3", "standardDSv3Family", 16, 0, 64, 131072, true, 0.768, true},
	{"Standard_D32s_v3", "standardDSv3Family", 32, 0, 128, 262144, true, 1.536, true},
	{"Standard_E4s_v3", "standardESv3Family", 4, 0, 32, 65536, true, 0.252, true},
	{"Standard_E8s_v3", "standardESv3Family", 8, 0, 64, 131072, true, 0.504, true},
	{"Standard_E16s_v3", "standardESv3Family", 16, 0, 128, 262144, true, 1.008, true},
	{"Standard_E32s_v3", "standardESv3Family", 32, 0, 256, 524288, true, 2.016, true},
	{"Standard_F2s_v2", "standardFSv2Family", 2, 0, 4, 16384, true, 0.085, true},
	{"Standard_F4s_v2", "standardFSv2Family", 4, 0, 8, 32768, true, 0.169, true},
	{"Standard_F8s_v2", "standardFSv2Family", 8, 0, 16, 65536, true, 0.338, true},
	{"Standard_F16s_v2", "standardFSv2Family", 16, 0, 32, 131072, true, 0.677, true},
	{"Standard_F32s_v2", "standardFSv2Family", 32, 0, 64, 262144, true, 1.353, true},
	{"Standard_NC6", "standardNCFamily", 6, 1, 56, 389120, false, 0.9, false},
	{"Standard_NC12", "standardNCFamily", 12, 2, 112, 696320, false, 1.8, false},
	{"Standard_NC24", "standardNCFamily", 24, 4, 224, 1474560, false, 3.6, false},
	{"Standard_NC6s_v3", "standardNCSv3Family", 6, 1, 112, 753664, true, 3.06, true},
	{"Standard_NC12s_v3", "standardNCSv3Family", 12, 2, 224, 1509376, true, 6.12, true},
	{"Standard_NC24s_v3", "standardNCSv3Family", 24, 4, 448, 3018752, true, 12.24, true},
	{"Standard_NC4as_T4_v3", "standardNCASv3_T4Family", 4, 1, 28, 184320, true, 0.526, true},
	{"Standard_NC8as_T4_v3", "standardNCASv3_T4Family", 8, 1, 56, 368640, true, 0.752, true},
	{"Standard_NC16as_T4_v3", "standardNCASv3_T4Family", 16, 1, 110, 360448, true, 1.204, true},
	{"Standard_NC64as_T4_v3", "standardNCASv3_T4Family", 64, 4, 440, 2949120, true, 4.352, true},
	{"Standard_NC24ads_A100_v4", "standardNCADSA100v4Family", 24, 1, 220, 65536, true, 3.673, true},
	{"Standard_NC48ads_A100_v4", "standardNCADSA100v4Family", 48, 2, 440, 131072, true, 7.346, true},
	{"Standard_NC96ads_A100_v4", "standardNCADSA100v4Family", 96, 4, 880, 262144, true, 14.692, true},
}

// lookupVMSize finds a size by name, ignoring case (computes store
// "STANDARD_DS3_V2").
func lookupVMSize(name string) (vmSize, bool) {
	for _, s := range vmSizes {
		if strings.EqualFold(s.name, name) {
			return s, true
		}
	}
	return vmSize{}, false
}

// Windows adds this much per vCPU and hour to the Linux price; low
// priority costs lowPriorityShare of the standard price (illustrative).
const (
	windowsPerVCPU   = 0.046
	lowPriorityShare = 0.2
)

func roundPrice(p float64) float64 { return math.Round(p*1000) / 1000 }

// body is the VirtualMachineSize of s.
func (s vmSize) body() map[string]any {
	types := []any{"AmlCompute", "ComputeInstance"}
	if s.mir {
		types = append(types, "MIR")
	}
	var prices []any
	for _, os := range []string{"Linux", "Windows"} {
		standard := s.linuxPrice
		if os == "Windows" {
			standard += windowsPerVCPU * float64(s.vCPUs)
		}
		prices = append(prices,
			map[string]any{"osType": os, "vmTier": "Standard", "retailPrice": roundPrice(standard)},
			map[string]any{"osType": os, "vmTier": "LowPriority", "retailPrice": roundPrice(standard * lowPriorityShare)})
	}
	return map[string]any{
		"name":                  s.name,
		"family":                s.family,
		"vCPUs":                 s.vCPUs,
		"gpus":                  s.gpus,
		"osVhdSizeMB":           vmOSDiskMB,
		"maxResourceVolumeMB":   s.tempDiskMB,
		"memoryGB":              s.memoryGB,
		"lowPriorityCapable":    true,
		"premiumIO":             s.premiumIO,
		"supportedComputeTypes": types,
		"estimatedVMPrices": map[string]any{
			"billingCurrency": "USD", "unitOfMeasure": "OneHour", "values": prices,
		},
	}
}

// listVMSizes answers the vmSizes GET for a location already checked: the
// whole catalogue, one unpaged list.
func listVMSizes() *engine.Response {
	out := make([]any, len(vmSizes))
	for i, s := range vmSizes {
		out[i] = s.body()
	}
	return engine.JSON(http.StatusOK, map[string]any{"value": out})
}

// familyPattern takes the core of a quota family name:
// "standardDSv2Family" → "Standard DSv2 Family",
// "standardNCASv3_T4Family" → "Standard NCASv3_T4 Family".
var familyPattern = regexp.MustCompile(`^standard(.+)Family$`)

// familyQuotaName is the quota and usage name of a family's dedicated
// cluster vCPUs: value and localizedValue "Standard DSv2 Family Cluster
// Dedicated vCPUs", id segment "Standard_DSv2_Family_Cluster_Dedicated_vCPUs"
// (the example's forms).
func familyQuotaName(family string) (display, segment string) {
	m := familyPattern.FindStringSubmatch(family)
	core := family
	if m != nil {
		core = m[1]
	}
	display = "Standard " + core + " Family Cluster Dedicated vCPUs"
	return display, strings.ReplaceAll(display, " ", "_")
}

// vmFamilies are the catalogue's families, in catalogue order.
func vmFamilies() []string {
	var out []string
	for _, s := range vmSizes {
		if len(out) == 0 || out[len(out)-1] != s.family {
			out = append(out, s.family)
		}
	}
	return out
}
