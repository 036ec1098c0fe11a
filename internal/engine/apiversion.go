package engine

import (
	"regexp"
	"slices"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/foldcase"
)

// apiVersionFormat is ARM's api-version syntax.
var apiVersionFormat = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(-(preview|alpha|beta|rc|privatepreview))?$`)

// CoreAPIVersions are the Microsoft.Resources api-versions armlet accepts
// for subscriptions, resource groups, providers, tenants, locations and
// the /resources lists, newest first. They cover what the Azure CLI 2.45,
// azure-sdk-for-go's armresources/armsubscriptions, azcore's automatic
// registration (2019-05-01) and hashicorp/go-azure-sdk send.
var CoreAPIVersions = []string{
	"2025-04-01", "2025-03-01", "2024-11-01", "2024-07-01", "2024-03-01", "2023-07-01",
	"2022-12-01", "2022-09-01", "2022-01-01", "2021-04-01", "2021-01-01", "2020-10-01",
	"2020-08-01", "2020-06-01", "2020-01-01", "2019-11-01", "2019-10-01", "2019-09-01",
	"2019-08-01", "2019-07-01", "2019-06-01", "2019-05-10", "2019-05-01", "2019-03-01",
	"2018-11-01", "2018-09-01", "2018-08-01", "2018-07-01", "2018-06-01", "2018-05-01",
	"2018-02-01", "2018-01-01", "2017-08-01", "2017-06-01", "2017-05-10", "2017-05-01",
	"2017-03-01", "2016-09-01", "2016-07-01", "2016-06-01", "2016-02-01", "2015-11-01",
	"2015-01-01", "2014-04-01",
}

// LenientHint ends the refusal of a well-formed api-version armlet does not
// know: Azure may serve it (previews above all), and armlet accepts it when
// started with --lenient-api-versions.
const LenientHint = "armlet does not know this api-version; start armlet with --lenient-api-versions (ARMLET_LENIENT_API_VERSIONS=true) to accept any well-formed api-version."

// CheckAPIVersion checks v against the registered type typ, with the
// errors a request to typ itself would get, for a Route that serves
// something of typ's namespace beside its resources (a provider's
// checkNameAvailability). An unregistered typ is checked as the ARM core.
func (e *Engine) CheckAPIVersion(v, typ string) error {
	t, _ := e.reg.Lookup(typ) // nil when not registered
	return e.checkAPIVersion(v, t)
}

// checkAPIVersion checks v against t (nil for the ARM core).
func (e *Engine) checkAPIVersion(v string, t *Type) error {
	if v == "" {
		return arm.BadRequest(arm.CodeMissingAPIVersion, "The api-version query parameter (?api-version=) is required for all requests.")
	}
	versions := CoreAPIVersions
	if t != nil && !foldcase.HasPrefix(t.Name, "microsoft.resources/") {
		versions = t.APIVersions
	}
	if slices.ContainsFunc(versions, func(s string) bool { return strings.EqualFold(s, v) }) {
		return nil
	}
	if e.lenient && apiVersionFormat.MatchString(strings.ToLower(v)) {
		return nil
	}
	wellFormed := apiVersionFormat.MatchString(strings.ToLower(v))
	hint := ""
	if wellFormed {
		hint = " " + LenientHint
	}
	if t == nil || !wellFormed || foldcase.HasPrefix(t.Name, "microsoft.resources/") {
		return arm.BadRequest(arm.CodeInvalidAPIVersion,
			"The api-version '%s' is invalid. The supported versions are '%s'.%s", v, strings.Join(versions, ","), hint)
	}
	locs := e.locationsOf(t)
	return arm.BadRequest(arm.CodeNoRegisteredProvider,
		"No registered resource provider found for location '%s' and API version '%s' for type '%s'. The supported api-versions are '%s'. The supported locations are '%s'.%s",
		NormalizeLocation(locs[0]), v, typeAfterNamespace(t.Name), strings.Join(versions, ", "), strings.Join(locs, ", "), hint)
}

func typeAfterNamespace(t string) string {
	if i := strings.IndexByte(t, '/'); i >= 0 {
		return t[i+1:]
	}
	return t
}
