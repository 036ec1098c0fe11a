package network

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/armlet/armlet/internal/arm"
	"github.com/armlet/armlet/internal/engine"
)

// TypeSOARecords is the SOA record set every private DNS zone has.
const TypeSOARecords = TypePrivateDNSZones + "/SOA"

// soaStrategy serves a private DNS zone's SOA record set, which Azure makes
// with the zone and which cannot be created or deleted on its own: a
// virtual type (engine.VirtualStrategy) whose one item, "@", is rendered
// from the zone, with what a PUT or PATCH changed kept in the zone's
// record. azurerm reads it after creating a zone.
//
// Choice: DELETE is 405 MethodNotAllowed (Azure refuses it; its code is
// not known); a name other than "@" is 404.
type soaStrategy struct{ *provider }

var (
	_ engine.Strategy        = (*soaStrategy)(nil)
	_ engine.VirtualStrategy = (*soaStrategy)(nil)
)

const dataSOA = "soa"

// soaSettings are the SOA record set's writable members; nil fields keep
// Azure's defaults.
type soaSettings struct {
	TTL         *int64         `json:"ttl,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
	Email       *string        `json:"email,omitempty"`
	ExpireTime  *int64         `json:"expireTime,omitempty"`
	MinimumTTL  *int64         `json:"minimumTtl,omitempty"`
	RefreshTime *int64         `json:"refreshTime,omitempty"`
	RetryTime   *int64         `json:"retryTime,omitempty"`
}

func (s *soaStrategy) Validate(context.Context, *engine.Request, *engine.Resource, *engine.Resource) error {
	return nil // ServeVirtual answers every request
}

func (s *soaStrategy) ServeVirtual(ctx context.Context, req *engine.Request, zone *engine.Resource, name string) (*engine.Response, error) {
	if name != "" && name != "@" {
		return nil, arm.NotFound(arm.CodeResourceNotFound, "The SOA record set '%s' does not exist in private DNS zone '%s'; a zone's only SOA record set is '@'.", name, zone.ID.Name())
	}
	switch req.Method {
	case http.MethodGet:
		if name == "" {
			return engine.JSON(http.StatusOK, map[string]any{"value": []any{s.render(zone)}}), nil
		}
		return s.respond(zone), nil
	case http.MethodPut, http.MethodPatch:
		in, err := decodeSOA(req.Body)
		if err != nil {
			return nil, err
		}
		updated, err := s.e.Update(ctx, zone.ID, func(z *engine.Resource) error {
			var cur soaSettings
			if req.Method == http.MethodPatch {
				z.GetData(dataSOA, &cur)
			}
			cur.merge(in)
			z.SetData(dataSOA, cur)
			return nil
		})
		if err != nil {
			return nil, err
		}
		return s.respond(updated), nil
	case http.MethodDelete:
		return nil, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed,
			"The SOA record set of private DNS zone '%s' cannot be deleted; it is deleted with the zone.", zone.ID.Name())
	}
	return nil, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed,
		"The requested resource does not support http method '%s' for type '%s'.", req.Method, TypeSOARecords)
}

func (s *soaStrategy) respond(zone *engine.Resource) *engine.Response {
	resp := engine.JSON(http.StatusOK, s.render(zone))
	resp.Header = http.Header{"ETag": {zone.ETag()}}
	return resp
}

// render is the SOA record set of zone: Azure's defaults for a private
// zone, overridden by what was written.
func (s *soaStrategy) render(zone *engine.Resource) map[string]any {
	var st soaSettings
	zone.GetData(dataSOA, &st)
	or := func(v *int64, def int64) int64 {
		if v != nil {
			return *v
		}
		return def
	}
	email := "azureprivatedns-host.microsoft.com"
	if st.Email != nil {
		email = *st.Email
	}
	props := map[string]any{
		"ttl":              or(st.TTL, 3600),
		"fqdn":             zone.ID.Name() + ".",
		"isAutoRegistered": false,
		"soaRecord": map[string]any{
			"host": "azureprivatedns.net", "email": email, "serialNumber": 1,
			"expireTime": or(st.ExpireTime, 2419200), "minimumTtl": or(st.MinimumTTL, 10),
			"refreshTime": or(st.RefreshTime, 3600), "retryTime": or(st.RetryTime, 300),
		},
	}
	if st.Metadata != nil {
		props["metadata"] = st.Metadata
	}
	return map[string]any{
		"id": zone.ID.Child("SOA", "@").String(), "name": "@", "type": TypeSOARecords,
		"etag": strings.Trim(zone.ETag(), `"`), "properties": props,
	}
}

// decodeSOA reads a PUT or PATCH body of the SOA record set.
func decodeSOA(body []byte) (soaSettings, error) {
	var in struct {
		Properties *struct {
			TTL       *int64         `json:"ttl"`
			Metadata  map[string]any `json:"metadata"`
			SOARecord *struct {
				Email       *string `json:"email"`
				ExpireTime  *int64  `json:"expireTime"`
				MinimumTTL  *int64  `json:"minimumTtl"`
				RefreshTime *int64  `json:"refreshTime"`
				RetryTime   *int64  `json:"retryTime"`
				// Read-only members a GET-modify-PUT sends back.
				Host         *string `json:"host"`
				SerialNumber *int64  `json:"serialNumber"`
			} `json:"soaRecord"`
			FQDN             *string `json:"fqdn"`
			IsAutoRegistered *bool   `json:"isAutoRegistered"`
		} `json:"properties"`
		ID   *string `json:"id"`
		Name *string `json:"name"`
		Type *string `json:"type"`
		ETag *string `json:"etag"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return soaSettings{}, arm.InvalidContent("", "The SOA record set could not be read: %v.", err)
	}
	var out soaSettings
	if p := in.Properties; p != nil {
		out.TTL, out.Metadata = p.TTL, p.Metadata
		if r := p.SOARecord; r != nil {
			out.Email, out.ExpireTime, out.MinimumTTL, out.RefreshTime, out.RetryTime = r.Email, r.ExpireTime, r.MinimumTTL, r.RefreshTime, r.RetryTime
		}
	}
	for path, v := range map[string]*int64{"properties.ttl": out.TTL, "properties.soaRecord.expireTime": out.ExpireTime,
		"properties.soaRecord.minimumTtl": out.MinimumTTL, "properties.soaRecord.refreshTime": out.RefreshTime, "properties.soaRecord.retryTime": out.RetryTime} {
		if v != nil && *v < 0 {
			return soaSettings{}, arm.InvalidContent(path, "The value %d of '%s' must not be negative.", *v, path)
		}
	}
	return out, nil
}

// merge sets every member in has.
func (st *soaSettings) merge(in soaSettings) {
	if in.TTL != nil {
		st.TTL = in.TTL
	}
	if in.Metadata != nil {
		st.Metadata = in.Metadata
	}
	for _, f := range []struct{ dst, src **int64 }{{&st.ExpireTime, &in.ExpireTime}, {&st.MinimumTTL, &in.MinimumTTL}, {&st.RefreshTime, &in.RefreshTime}, {&st.RetryTime, &in.RetryTime}} {
		if *f.src != nil {
			*f.dst = *f.src
		}
	}
	if in.Email != nil {
		st.Email = in.Email
	}
}
