package jsonenc

import "time"

// The helpers below write the members of a JSON object whose first
// member would start at b[start:], for encoders written by hand for one
// struct type (as encoding/json would encode it). Keys are Go literals
// that need no escaping.

// AppendKey appends `"key":`, after a comma unless the object starting at
// b[start:] has no member yet.
func AppendKey(b []byte, start int, key string) []byte {
	if len(b) > start {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

// AppendStringMember appends a string member, left out when v is empty
// (a field tagged omitempty).
func AppendStringMember(b []byte, start int, key, v string) []byte {
	if v == "" {
		return b
	}
	return AppendString(AppendKey(b, start, key), v)
}

// AppendTimeMember appends a time member, left out when t is zero (a
// field tagged omitzero). t must be EncodableTime.
func AppendTimeMember(b []byte, start int, key string, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	return AppendTime(AppendKey(b, start, key), t)
}

// AppendTime appends t as time.Time's MarshalJSON writes it. t must be
// EncodableTime.
func AppendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// EncodableTime reports whether t is one RFC 3339 can hold, as
// time.Time's MarshalJSON requires (it fails on any other).
func EncodableTime(t time.Time) bool {
	_, off := t.Zone()
	return t.Year() >= 0 && t.Year() <= 9999 && off > -24*3600 && off < 24*3600
}
