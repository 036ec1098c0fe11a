package machinelearning

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
	"github.com/google/uuid"
)

// onlineEndpointStrategy is the behaviour of Microsoft.MachineLearningServices/
// workspaces/onlineEndpoints. It implements engine.Strategy, Renderer and
// Actioner.
//
// A PUT needs location and properties.authMode (AMLToken, Key or
// AADToken); description, compute, publicNetworkAccess (default Enabled),
// traffic and mirrorTraffic (default {}), properties (a string dictionary)
// and keys (initial keys, never shown) are optional. scoringUri
// (https://{name}.{location}.inference.ml.azure.com/score), swaggerUri and
// provisioningState are generated.
//
// Traffic rules (400 UserError, target properties.traffic or
// properties.mirrorTraffic): every deployment named must exist under the
// endpoint and not be being deleted; each value is 0 to 100; traffic sums
// to 100, or to 0 (an endpoint that serves nothing); mirrorTraffic sums to
// at most 50 (the spec's limit).
//
// Choice: the endpoint must be in its workspace's location; compute, when
// set, must be an existing compute of the subscription and cannot change
// afterwards.
//
// Choice: PATCH takes tags and identity (PartialMinimalTrackedResourceWithIdentity,
// what the SDK's Update sends) and, for older clients, properties.traffic
// and properties.mirrorTraffic; a map sent in a PATCH replaces the stored
// one whole (it is not merged key by key). PATCH answers 200 with the
// resource.
//
// Choice: traffic entries for deployments deleted since (which had 0
// traffic: see the deployments' delete rule) are left out of responses, so
// a client can PUT back what it read, and are dropped by a PATCH that does
// not send that map.
//
// Actions (names ignore case):
//   - listKeys: 200 {primaryKey, secondaryKey}.
//   - regenerateKeys: body {keyType: Primary|Secondary, keyValue?}; 202
//     with Location (then 204). Choice: the key changes at once, before
//     the operation completes; keyValue, when set, is the new key.
//   - token: only for authMode AMLToken (400 UserError otherwise): 200
//     {accessToken, expiryTimeUtc, refreshAfterTimeUtc, tokenType:
//     "Bearer"}. Choice: the token is an unsigned JWT-shaped string valid
//     for one hour, to be refreshed after 30 minutes (epoch seconds).
//
// Choice: keys exist, and listKeys and regenerateKeys answer, whatever the
// authMode (the mode decides which credential scoring would accept).
//
// Choice: Azure requires endpoint names to be unique per region (the
// scoring URI's host); armlet does not check that across workspaces.
type onlineEndpointStrategy struct {
	e      *engine.Engine
	shapes *shapes
}

var (
	_ engine.Strategy = (*onlineEndpointStrategy)(nil)
	_ engine.Renderer = (*onlineEndpointStrategy)(nil)
	_ engine.Actioner = (*onlineEndpointStrategy)(nil)
)

var onlineEndpointProperties = object("OnlineEndpointProperties", map[string]*field{
	"authMode":            endpointAuthMode,
	"compute":             str(),
	"description":         str(),
	"keys":                endpointKeysSchema,
	"mirrorTraffic":       mapOf(integer()),
	"properties":          mapOf(str()),
	"publicNetworkAccess": enum("PublicNetworkAccessType", "Enabled", "Disabled"),
	"traffic":             mapOf(integer()),
	"provisioningState":   str().ro(),
	"scoringUri":          str().ro(),
	"swaggerUri":          str().ro(),
}, "authMode")

// Token lifetimes of the token action.
const (
	endpointTokenLifetime = time.Hour
	endpointTokenRefresh  = 30 * time.Minute
)

// Validate checks a PUT or PATCH of an online endpoint and completes it.
func (s *onlineEndpointStrategy) Validate(ctx context.Context, req *engine.Request, desired, old *engine.Resource) error {
	sentMaps := map[string]bool{"traffic": true, "mirrorTraffic": true}
	if req.Method == http.MethodPatch {
		var err error
		if sentMaps, err = s.applyPatch(req, desired); err != nil {
			return err
		}
	}
	if err := checkSkuAndIdentity(desired, "OnlineEndpoint"); err != nil {
		return err
	}
	if err := checkProperties(req, desired, old, s.shapes, "OnlineEndpointProperties"); err != nil {
		return err
	}
	ws, err := workspaceOf(ctx, s.e, desired)
	if err != nil {
		return err
	}
	if err := epCheckSameLocation(desired, ws, "online endpoint"); err != nil {
		return err
	}
	p := desired.Properties
	var oldCompute any
	if old != nil {
		oldCompute = old.Properties["compute"]
		if !strings.EqualFold(epStr(p["compute"]), epStr(oldCompute)) {
			return propertyChangeNotAllowed("properties.compute")
		}
	}
	if err := epCheckRefIfChanged(ctx, s.e, epRefCompute.at("properties.compute"), p["compute"], oldCompute); err != nil {
		return err
	}
	deployments, err := epLiveChildren(ctx, s.e, desired.ID, req)
	if err != nil {
		return err
	}
	for _, name := range []string{"traffic", "mirrorTraffic"} {
		if m, ok := p[name].(map[string]any); ok && !sentMaps[name] {
			// Stored entries of deployments deleted since (with 0 traffic).
			for k := range m {
				if deployments[strings.ToLower(k)] == nil {
					delete(m, k)
				}
			}
		}
	}
	if err := epCheckTraffic(p, deployments, desired.ID.Name()); err != nil {
		return err
	}
	epSetDefaults(p, map[string]any{
		"publicNetworkAccess": "Enabled",
		"traffic":             map[string]any{},
		"mirrorTraffic":       map[string]any{},
	})
	completeEndpointKeys(desired)
	completeEndpointIdentity(ctx, s.e, desired)
	return nil
}

// applyPatch checks a PATCH body and makes its traffic maps replace the
// stored ones (the engine merged them key by key). It returns the maps the
// body sent.
func (s *onlineEndpointStrategy) applyPatch(req *engine.Request, desired *engine.Resource) (map[string]bool, error) {
	sent := map[string]bool{}
	body, err := endpointPatchBody(req, "PartialMinimalTrackedResourceWithIdentity", "tags", "identity", "properties")
	if err != nil {
		return nil, err
	}
	raw, ok := body["properties"]
	if !ok || raw == nil {
		return sent, nil
	}
	pm, ok := raw.(map[string]any)
	if !ok {
		return nil, conversion("properties", raw, "PartialOnlineEndpoint")
	}
	for k, v := range pm {
		name := ""
		for _, n := range []string{"traffic", "mirrorTraffic"} {
			if strings.EqualFold(k, n) {
				name = n
			}
		}
		if name == "" {
			return nil, arm.UnknownMember("properties", k, "PartialOnlineEndpoint")
		}
		sent[name] = true
		delete(desired.Properties, k)
		if v == nil {
			delete(desired.Properties, name)
			continue
		}
		desired.Properties[name] = v
	}
	return sent, nil
}

// epCheckTraffic applies the traffic rules to properties.traffic and
// properties.mirrorTraffic and gives the deployment names their stored
// casing.
func epCheckTraffic(p map[string]any, deployments map[string]*engine.Resource, endpoint string) error {
	for _, m := range []struct {
		name string
		max  int64
	}{{"traffic", 100}, {"mirrorTraffic", 50}} {
		values, _ := p[m.name].(map[string]any)
		if values == nil {
			continue
		}
		target := "properties." + m.name
		out := make(map[string]any, len(values))
		var sum int64
		for name, v := range values {
			n, _ := strconv.ParseInt(string(v.(json.Number)), 10, 64)
			d, ok := deployments[strings.ToLower(name)]
			if !ok {
				return arm.BadRequest(arm.CodeUserError, "The deployment '%s' named in '%s' does not exist under online endpoint '%s'; create it before sending it traffic.",
					name, target, endpoint).WithTarget(target)
			}
			if n < 0 || n > 100 {
				return arm.BadRequest(arm.CodeUserError, "The %s of deployment '%s' is %d; each value of '%s' must be between 0 and 100.",
					m.name, name, n, target).WithTarget(target)
			}
			canon := d.ID.Name()
			if _, dup := out[canon]; dup {
				return arm.BadRequest(arm.CodeUserError, "'%s' names deployment '%s' more than once.", target, canon).WithTarget(target)
			}
			out[canon] = json.Number(strconv.FormatInt(n, 10))
			sum += n
		}
		switch {
		case m.name == "traffic" && sum != 0 && sum != 100:
			return arm.BadRequest(arm.CodeUserError, "The values of '%s' sum to %d; traffic must sum to 100 (or to 0 to send no traffic).", target, sum).WithTarget(target)
		case m.name == "mirrorTraffic" && sum > m.max:
			return arm.BadRequest(arm.CodeUserError, "The values of '%s' sum to %d; mirrored traffic must sum to at most %d.", target, sum, m.max).WithTarget(target)
		}
		p[m.name] = out
	}
	return nil
}

// epScoringHost is the DNS name of an endpoint's scoring service.
func epScoringHost(r *engine.Resource) string {
	return strings.ToLower(r.ID.Name()) + "." + r.Location + ".inference.ml.azure.com"
}

// Render adds the endpoint's URIs and leaves out traffic entries of
// deployments that no longer exist.
func (s *onlineEndpointStrategy) Render(ctx context.Context, r *engine.Resource, body map[string]any, apiVersion string, _ time.Time) error {
	defer s.shapes.render(body, apiVersion)
	props, _ := body["properties"].(map[string]any)
	if props == nil {
		return nil
	}
	props["scoringUri"] = "https://" + epScoringHost(r) + "/score"
	props["swaggerUri"] = "https://" + epScoringHost(r) + "/swagger.json"
	list, err := s.e.List(ctx, r.ID, "deployments")
	if err != nil {
		return nil
	}
	exists := make(map[string]bool, len(list))
	for _, d := range list {
		exists[strings.ToLower(d.ID.Name())] = true
	}
	for _, name := range []string{"traffic", "mirrorTraffic"} {
		if m, ok := props[name].(map[string]any); ok {
			for k := range m {
				if !exists[strings.ToLower(k)] {
					delete(m, k)
				}
			}
		}
	}
	return nil
}

var regenerateKeysRequest = object("RegenerateEndpointKeysRequest", map[string]*field{
	"keyType":  enum("KeyType", "Primary", "Secondary"),
	"keyValue": str(),
}, "keyType")

// Action answers listKeys, regenerateKeys and token.
func (s *onlineEndpointStrategy) Action(ctx context.Context, req *engine.Request, r *engine.Resource, name string) (*engine.Response, error) {
	switch strings.ToLower(name) {
	case "listkeys":
		return listEndpointKeys(r), nil
	case "regeneratekeys":
		return regenerateEndpointKey(ctx, s.e, req, r)
	case "token":
		return s.token(req, r)
	}
	return nil, engine.UnknownAction(TypeOnlineEndpoints, name)
}

// regenerateEndpointKey changes one key of an endpoint and answers with
// a Location operation.
func regenerateEndpointKey(ctx context.Context, e *engine.Engine, req *engine.Request, r *engine.Resource) (*engine.Response, error) {
	if _, err := changeEndpointKey(ctx, e, req, r); err != nil {
		return nil, err
	}
	return e.NewActionOperation(ctx, req, r, nil, req.Now.Add(e.OperationDuration()))
}

// changeEndpointKey applies a RegenerateEndpointKeysRequest to the stored
// keys of r and returns them.
func changeEndpointKey(ctx context.Context, e *engine.Engine, req *engine.Request, r *engine.Resource) (endpointKeys, error) {
	var k endpointKeys
	body, err := epActionBody(req)
	if err != nil {
		return k, err
	}
	checked, err := regenerateKeysRequest.check("body", body)
	if err != nil {
		return k, err
	}
	b := checked.(map[string]any)
	value, _ := b["keyValue"].(string)
	if value == "" {
		value = newEndpointKey()
	}
	_, err = e.Update(ctx, r.ID, func(ep *engine.Resource) error {
		k = endpointKeys{}
		ep.GetData(dataEndpointKeys, &k)
		if b["keyType"] == "Primary" {
			k.Primary = value
		} else {
			k.Secondary = value
		}
		ep.SetData(dataEndpointKeys, k)
		return nil
	})
	return k, err
}

// token answers the token action of an AMLToken endpoint.
func (s *onlineEndpointStrategy) token(req *engine.Request, r *engine.Resource) (*engine.Response, error) {
	mode, _ := r.Properties["authMode"].(string)
	if mode != "AMLToken" {
		return nil, arm.BadRequest(arm.CodeUserError,
			"Online endpoint '%s' uses authMode '%s'; the token action is only available for authMode 'AMLToken'. Use listKeys for 'Key' endpoints and a Microsoft Entra token for 'AADToken' endpoints.",
			r.ID.Name(), mode).WithTarget("properties.authMode")
	}
	expiry := req.Now.Add(endpointTokenLifetime)
	claims := map[string]any{
		"aud": "https://" + epScoringHost(r), "iss": "azureml", "sub": req.Caller.ObjectID,
		"iat": req.Now.Unix(), "nbf": req.Now.Unix(), "exp": expiry.Unix(), "jti": uuid.NewString(),
		"endpointId": r.ID.String(),
	}
	enc := base64.RawURLEncoding
	token := enc.EncodeToString(mustJSON(map[string]any{"alg": "RS256", "typ": "JWT"})) + "." +
		enc.EncodeToString(mustJSON(claims)) + "." + enc.EncodeToString([]byte(newEndpointKey()+newEndpointKey()))
	return engine.JSON(http.StatusOK, map[string]any{
		"accessToken":         token,
		"expiryTimeUtc":       expiry.Unix(),
		"refreshAfterTimeUtc": req.Now.Add(endpointTokenRefresh).Unix(),
		"tokenType":           "Bearer",
	}), nil
}

// epStr is a string member's value, "" when absent.
func epStr(v any) string {
	s, _ := v.(string)
	return s
}
