package network

import (
	"hash/fnv"
	"strconv"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// A virtual network's bgpCommunities (VirtualNetworkBgpCommunities): the
// client sets virtualNetworkCommunity (required when bgpCommunities is
// sent), and Azure adds regionalCommunity, the read-only community of the
// virtual network's region that ExpressRoute tags its routes with.

// regionalCommunities are the regional BGP communities of the regions
// armlet offers, by normalized location: 12076:500xx, with the xx of the
// region's Microsoft-peering community (12076:510xx) in ExpressRoute's
// routing requirements. East US's 12076:50004 is the value Azure's own
// example (VirtualNetworkCreateWithBgpCommunities) shows; the others
// follow that numbering and were not checked against a published table.
var regionalCommunities = map[string]string{
	"westeurope":     "12076:50002",
	"northeurope":    "12076:50003",
	"eastus":         "12076:50004",
	"eastus2":        "12076:50005",
	"westus":         "12076:50006",
	"northcentralus": "12076:50007",
	"southcentralus": "12076:50008",
	"centralus":      "12076:50009",
	"eastasia":       "12076:50010",
	"southeastasia":  "12076:50011",
	"japaneast":      "12076:50012",
	"brazilsouth":    "12076:50014",
	"australiaeast":  "12076:50015",
	"centralindia":   "12076:50017",
	"canadacentral":  "12076:50020",
	"uksouth":        "12076:50024",
	"westus2":        "12076:50026",
	"westcentralus":  "12076:50027",
	"koreacentral":   "12076:50028",
	"francecentral":  "12076:50030",
}

// regionalCommunity is the regional BGP community of location.
//
// Choice: a region outside regionalCommunities (whose Azure value armlet
// does not know) gets a value derived from its name in 12076:59000-59999,
// outside the regional numbering, so that it is stable and not another
// region's.
func regionalCommunity(location string) string {
	loc := engine.NormalizeLocation(location)
	if c, ok := regionalCommunities[loc]; ok {
		return c
	}
	h := fnv.New32a()
	h.Write([]byte(loc))
	return "12076:" + strconv.Itoa(59000+int(h.Sum32()%1000))
}

// checkBgpCommunities checks props.bgpCommunities and drops the read-only
// regionalCommunity a client may send back from a GET.
func checkBgpCommunities(props map[string]any) error {
	bgp, err := objectAt(props, "bgpCommunities", "properties.bgpCommunities")
	if err != nil || bgp == nil {
		return err
	}
	for k := range bgp {
		if k != "virtualNetworkCommunity" && k != "regionalCommunity" {
			return arm.UnknownMember("properties.bgpCommunities", k, "VirtualNetworkBgpCommunities")
		}
	}
	c, err := stringAt(bgp, "virtualNetworkCommunity", "properties.bgpCommunities.virtualNetworkCommunity")
	if err != nil {
		return err
	}
	if c == "" {
		return arm.InvalidContent("properties.bgpCommunities.virtualNetworkCommunity",
			"The value of 'properties.bgpCommunities.virtualNetworkCommunity' is required when bgpCommunities is set.")
	}
	delete(bgp, "regionalCommunity")
	return nil
}

// renderBgpCommunities adds regionalCommunity to the rendered
// bgpCommunities of a virtual network in location.
func renderBgpCommunities(props map[string]any, location string) {
	if bgp, ok := props["bgpCommunities"].(map[string]any); ok {
		bgp["regionalCommunity"] = regionalCommunity(location)
	}
}
