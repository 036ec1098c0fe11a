package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/armlet/armlet/internal/arm/resourceid"
	"github.com/armlet/armlet/internal/jsonenc"
)

// Resource is one stored ARM resource: the envelope ARM defines, the
// type's properties as free JSON, and state the engine keeps off the wire.
type Resource struct {
	// ID has the casing used at creation (for every segment).
	ID       resourceid.ID
	Type     string
	Location string
	Tags     map[string]string
	Kind     string
	// Properties is the "properties" object. Strategies own its contents.
	Properties map[string]any
	// Extra holds the other top-level members a client sent and the type
	// keeps (sku, identity, managedBy, zones, ...), as sent.
	Extra      map[string]json.RawMessage
	SystemData SystemData
	Internal   Internal

	// Revision is the store revision that last wrote the resource; the
	// ETag is derived from it. Zero for a resource not yet stored.
	Revision int64
}

// SystemData is ARM's read-only creation and modification record.
type SystemData struct {
	CreatedBy          string    `json:"createdBy,omitempty"`
	CreatedByType      string    `json:"createdByType,omitempty"`
	CreatedAt          time.Time `json:"createdAt,omitzero"`
	LastModifiedBy     string    `json:"lastModifiedBy,omitempty"`
	LastModifiedByType string    `json:"lastModifiedByType,omitempty"`
	LastModifiedAt     time.Time `json:"lastModifiedAt,omitzero"`
}

// Internal is engine and strategy state that is stored but never sent.
type Internal struct {
	// CreatedAPIVersion is the api-version of the PUT that created it.
	CreatedAPIVersion string `json:"createdApiVersion,omitempty"`
	// Provisioning, while Until is in the future, overrides the rendered
	// properties.provisioningState (Creating, Updating).
	Provisioning *Transition `json:"provisioning,omitempty"`
	// DeleteAt is set by an asynchronous DELETE: the resource shows
	// "Deleting" until then and is gone from then on.
	DeleteAt time.Time `json:"deleteAt,omitzero"`
	// Data is the strategy's private state.
	Data map[string]json.RawMessage `json:"data,omitempty"`
}

// Transition is a state shown until a moment passes.
type Transition struct {
	State string    `json:"state"`
	Until time.Time `json:"until"`
}

// Gone reports whether an asynchronous delete of r has completed by now.
func (r *Resource) Gone(now time.Time) bool {
	return !r.Internal.DeleteAt.IsZero() && !now.Before(r.Internal.DeleteAt)
}

// Deleting reports whether an asynchronous delete of r is under way.
func (r *Resource) Deleting(now time.Time) bool {
	return !r.Internal.DeleteAt.IsZero() && now.Before(r.Internal.DeleteAt)
}

// ProvisioningState is the state a client sees now.
func (r *Resource) ProvisioningState(now time.Time) string {
	switch {
	case r.Deleting(now):
		return "Deleting"
	case r.Internal.Provisioning != nil && now.Before(r.Internal.Provisioning.Until):
		return r.Internal.Provisioning.State
	default:
		return "Succeeded"
	}
}

// ETag is the resource's entity tag, quoted, derived from its revision.
func (r *Resource) ETag() string { return fmt.Sprintf(`"%016x"`, r.Revision) }

// Prop returns a top-level property.
func (r *Resource) Prop(name string) (any, bool) {
	v, ok := r.Properties[name]
	return v, ok
}

// GetData decodes strategy state stored under key into v; it reports
// whether the key was present.
func (r *Resource) GetData(key string, v any) bool {
	raw, ok := r.Internal.Data[key]
	if !ok {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

// SetData stores strategy state under key.
func (r *Resource) SetData(key string, v any) {
	if r.Internal.Data == nil {
		r.Internal.Data = map[string]json.RawMessage{}
	}
	r.Internal.Data[key] = rawJSON(v)
}

// Clone returns a deep copy, so a strategy can compare old and new.
func (r *Resource) Clone() *Resource {
	c := *r
	c.Tags = maps.Clone(r.Tags)
	c.Properties = deepCopyMap(r.Properties)
	c.Extra = maps.Clone(r.Extra)
	c.Internal.Data = maps.Clone(r.Internal.Data)
	if r.Internal.Provisioning != nil {
		p := *r.Internal.Provisioning
		c.Internal.Provisioning = &p
	}
	return &c
}

func deepCopyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = DeepCopy(v)
	}
	return out
}

// DeepCopy copies generic JSON, the values encoding/json decodes into an
// any (objects as map[string]any, arrays as []any, scalars), so that the
// copy can be changed without changing v. Scalars and other types are
// shared, not copied. A nil map[string]any stays nil (it stays absent
// where it is omitempty); a nil []any becomes an empty one.
func DeepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return deepCopyMap(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = DeepCopy(e)
		}
		return out
	default:
		return v
	}
}

// record is the stored form of a Resource.
type record struct {
	ID         string                     `json:"id"`
	Type       string                     `json:"type"`
	Location   string                     `json:"location,omitempty"`
	Tags       map[string]string          `json:"tags,omitempty"`
	Kind       string                     `json:"kind,omitempty"`
	Properties map[string]any             `json:"properties,omitempty"`
	Extra      map[string]json.RawMessage `json:"extra,omitempty"`
	SystemData SystemData                 `json:"systemData"`
	Internal   Internal                   `json:"internal"`
}

// encodeResource is the stored form of r: encoding/json's encoding of its
// record, written member by member (jsonenc) because the reflection of
// Marshal was a large part of every write's CPU. TestEncodeResource holds
// the two to the same bytes.
func encodeResource(r *Resource) []byte {
	if !encodableTimes(r) {
		return rawJSON(recordOf(r)) // Marshal's error, as before
	}
	b := make([]byte, 0, 1024)
	b = append(b, `{"id":`...)
	b = jsonenc.AppendString(b, r.ID.String())
	b = append(b, `,"type":`...)
	b = jsonenc.AppendString(b, r.Type)
	if r.Location != "" {
		b = append(b, `,"location":`...)
		b = jsonenc.AppendString(b, r.Location)
	}
	var err error
	if len(r.Tags) > 0 {
		b = append(b, `,"tags":`...)
		b, _ = jsonenc.Append(b, r.Tags) // strings always encode
	}
	if r.Kind != "" {
		b = append(b, `,"kind":`...)
		b = jsonenc.AppendString(b, r.Kind)
	}
	if len(r.Properties) > 0 {
		b = append(b, `,"properties":`...)
		if b, err = jsonenc.Append(b, r.Properties); err != nil {
			panic(err) // as rawJSON: a strategy stored what JSON cannot hold
		}
	}
	if len(r.Extra) > 0 {
		b = append(b, `,"extra":`...)
		if b, err = jsonenc.Append(b, r.Extra); err != nil {
			panic(err)
		}
	}
	sd := &r.SystemData
	b = append(b, `,"systemData":{`...)
	n := len(b)
	b = jsonenc.AppendStringMember(b, n, "createdBy", sd.CreatedBy)
	b = jsonenc.AppendStringMember(b, n, "createdByType", sd.CreatedByType)
	b = jsonenc.AppendTimeMember(b, n, "createdAt", sd.CreatedAt)
	b = jsonenc.AppendStringMember(b, n, "lastModifiedBy", sd.LastModifiedBy)
	b = jsonenc.AppendStringMember(b, n, "lastModifiedByType", sd.LastModifiedByType)
	b = jsonenc.AppendTimeMember(b, n, "lastModifiedAt", sd.LastModifiedAt)
	in := &r.Internal
	b = append(b, `},"internal":{`...)
	n = len(b)
	b = jsonenc.AppendStringMember(b, n, "createdApiVersion", in.CreatedAPIVersion)
	if p := in.Provisioning; p != nil {
		b = jsonenc.AppendKey(b, n, "provisioning")
		b = append(b, `{"state":`...)
		b = jsonenc.AppendString(b, p.State)
		b = append(b, `,"until":`...)
		b = jsonenc.AppendTime(b, p.Until)
		b = append(b, '}')
	}
	b = jsonenc.AppendTimeMember(b, n, "deleteAt", in.DeleteAt)
	if len(in.Data) > 0 {
		b = jsonenc.AppendKey(b, n, "data")
		if b, err = jsonenc.Append(b, in.Data); err != nil {
			panic(err)
		}
	}
	return append(b, "}}"...)
}

// recordOf is r's stored form as a record.
func recordOf(r *Resource) record {
	return record{
		ID: r.ID.String(), Type: r.Type, Location: r.Location, Tags: r.Tags, Kind: r.Kind,
		Properties: r.Properties, Extra: r.Extra, SystemData: r.SystemData, Internal: r.Internal,
	}
}

// encodableTimes reports whether every time of r is one RFC 3339 can
// hold, as time.Time's MarshalJSON requires.
func encodableTimes(r *Resource) bool {
	ok := jsonenc.EncodableTime
	return ok(r.SystemData.CreatedAt) && ok(r.SystemData.LastModifiedAt) && ok(r.Internal.DeleteAt) &&
		(r.Internal.Provisioning == nil || ok(r.Internal.Provisioning.Until))
}

func decodeResource(b []byte, rev int64) (*Resource, error) {
	var rec record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("engine: corrupt record: %w", err)
	}
	id, err := resourceid.Parse(rec.ID)
	if err != nil {
		return nil, fmt.Errorf("engine: corrupt record id: %w", err)
	}
	return &Resource{
		ID: id, Type: rec.Type, Location: rec.Location, Tags: rec.Tags, Kind: rec.Kind,
		Properties: rec.Properties, Extra: rec.Extra, SystemData: rec.SystemData, Internal: rec.Internal,
		Revision: rev,
	}, nil
}

// render builds the wire form of r: the ARM envelope plus properties, with
// provisioningState as of now, then lets the strategy shape it.
func (t *Type) render(ctx context.Context, r *Resource, apiVersion string, now time.Time) (map[string]any, error) {
	body := make(map[string]any, 8+len(r.Extra))
	for k, v := range r.Extra {
		body[k] = v
	}
	body["id"] = r.ID.String()
	body["name"] = r.ID.Name()
	body["type"] = t.Name
	if t.Tracked || r.Location != "" {
		body["location"] = r.Location
	}
	if t.Tracked || len(r.Tags) > 0 {
		tags := r.Tags
		if tags == nil {
			tags = map[string]string{}
		}
		body["tags"] = tags
	}
	if r.Kind != "" {
		body["kind"] = r.Kind
	}
	props := deepCopyMap(r.Properties)
	if props == nil {
		props = map[string]any{}
	}
	props["provisioningState"] = r.ProvisioningState(now)
	body["properties"] = props
	body["systemData"] = r.SystemData
	if t.ETagInBody {
		body["etag"] = r.ETag()
	}
	if rd, ok := t.Strategy.(Renderer); ok {
		if err := rd.Render(ctx, r, body, apiVersion, now); err != nil {
			return nil, err
		}
	}
	return body, nil
}
