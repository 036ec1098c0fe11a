package machinelearning

import (
	"slices"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// Locations are the regions Microsoft.MachineLearningServices is offered
// in, as display names: Azure ML's public regions and its two canary
// (EUAP, "early updates access program") regions, East US 2 EUAP and
// Central US EUAP, which Azure's own REST examples use (eastus2euap) and
// azure-ai-ml treats specially.
//
// Source: the names and display names of Azure's public regions (`az
// account list-locations`) for which Azure's "products available by
// region" page lists Azure Machine Learning, transcribed by hand (late
// 2025), no live list being reachable offline; Azure's own list is what a
// subscription sees in GET
// /subscriptions/{s}/providers/Microsoft.MachineLearningServices
// (resourceTypes[].locations; the canary regions only for subscriptions
// allowed them). Sovereign clouds (US Gov, China) and Azure Extended
// Zones are not included.
//
// Choice: the restricted-access regions paired with a public one
// (Australia Central, Brazil Southeast, France South, Germany North,
// Norway West, South Africa West, UAE Central, West India) are accepted,
// as if the subscription had access to them; the canary regions too.
//
// Every type of the namespace accepts these (Registry.SetLocations); the
// subscription's location list and resource groups take them too.
var Locations = append(slices.Clone(engine.DefaultLocations),
	// Every region the engine offers all providers has Azure ML; these
	// further public regions have it too.
	"Canada East", "UK West", "Switzerland West", "Japan West", "Korea South", "South India", "West India",
	"Australia Southeast", "Australia Central", "Italy North", "Poland Central", "Spain Central",
	"Israel Central", "Qatar Central", "Mexico Central", "New Zealand North", "Brazil Southeast",
	"France South", "Germany North", "Norway West", "UAE Central", "South Africa West",
	// Canary regions.
	"East US 2 EUAP", "Central US EUAP",
)

// mlLocation returns the normalised name of location if the namespace is
// offered there, and Azure's error otherwise: ARM finds no resource
// provider registered for a location-based request to a region the
// namespace is not in (resourceType names the location-based type, as
// "locations/vmSizes").
func mlLocation(location, apiVersion, resourceType string) (string, error) {
	norm := engine.NormalizeLocation(location)
	if slices.ContainsFunc(Locations, func(l string) bool { return engine.NormalizeLocation(l) == norm }) {
		return norm, nil
	}
	return "", arm.BadRequest(arm.CodeNoRegisteredProvider,
		"No registered resource provider found for location '%s' and API version '%s' for type '%s'. The supported api-versions are '%s'. The supported locations are '%s'.",
		location, apiVersion, resourceType, strings.Join(APIVersions, ", "), strings.Join(Locations, ", "))
}
