package expr

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxPadLength bounds padLeft's totalLength.
const MaxPadLength = 1 << 16

// Azure's string functions:
// https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-string
func stringFunctions(m map[string]Function) {
	m["base64"] = fn(1, 1, func(c *Call) (any, error) {
		s, err := c.String(0)
		if err != nil {
			return nil, err
		}
		return c.result(base64.StdEncoding.EncodeToString([]byte(s)))
	})
	m["base64tostring"] = fn(1, 1, func(c *Call) (any, error) {
		b, err := decodeBase64(c, 0)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	})
	m["base64tojson"] = fn(1, 1, func(c *Call) (any, error) {
		b, err := decodeBase64(c, 0)
		if err != nil {
			return nil, err
		}
		return parseJSON(c, string(b))
	})
	m["datauri"] = fn(1, 1, func(c *Call) (any, error) {
		v, err := c.Arg(0)
		if err != nil {
			return nil, err
		}
		return c.result("data:text/plain;charset=utf8;base64," + base64.StdEncoding.EncodeToString([]byte(String(v))))
	})
	m["datauritostring"] = fn(1, 1, dataURIToString)
	m["endswith"] = fn(2, 2, func(c *Call) (any, error) {
		s, sub, err := twoStrings(c)
		return err == nil && strings.HasSuffix(strings.ToLower(s), strings.ToLower(sub)), err
	})
	m["startswith"] = fn(2, 2, func(c *Call) (any, error) {
		s, sub, err := twoStrings(c)
		return err == nil && strings.HasPrefix(strings.ToLower(s), strings.ToLower(sub)), err
	})
	m["format"] = fn(1, -1, format)
	m["guid"] = fn(1, -1, func(c *Call) (any, error) {
		ss, err := c.strings()
		if err != nil {
			return nil, err
		}
		return Guid(ss...), nil
	})
	m["uniquestring"] = fn(1, -1, func(c *Call) (any, error) {
		ss, err := c.strings()
		if err != nil {
			return nil, err
		}
		return UniqueString(ss...), nil
	})
	m["newguid"] = fn(0, 0, newGuid)
	m["json"] = fn(1, 1, func(c *Call) (any, error) {
		s, err := c.String(0)
		if err != nil {
			return nil, err
		}
		return parseJSON(c, s)
	})
	m["padleft"] = fn(2, 3, padLeft)
	m["replace"] = fn(3, 3, func(c *Call) (any, error) {
		ss, err := c.strings()
		if err != nil {
			return nil, err
		}
		if ss[1] == "" {
			return nil, c.Errorf("the string to replace must not be empty.")
		}
		n := strings.Count(ss[0], ss[1])
		if len(ss[0])+n*(len(ss[2])-len(ss[1])) > MaxStringLength {
			return nil, c.Errorf("the result would be longer than %d characters.", MaxStringLength)
		}
		return c.result(strings.ReplaceAll(ss[0], ss[1], ss[2]))
	})
	m["split"] = fn(2, 2, split)
	m["string"] = fn(1, 1, func(c *Call) (any, error) {
		v, err := c.Arg(0)
		if err != nil {
			return nil, err
		}
		return c.result(String(v))
	})
	m["substring"] = fn(2, 3, substring)
	m["tolower"] = fn(1, 1, func(c *Call) (any, error) {
		s, err := c.String(0)
		return strings.ToLower(s), err
	})
	m["toupper"] = fn(1, 1, func(c *Call) (any, error) {
		s, err := c.String(0)
		return strings.ToUpper(s), err
	})
	m["trim"] = fn(1, 1, func(c *Call) (any, error) {
		s, err := c.String(0)
		return strings.TrimSpace(s), err
	})
	m["uri"] = fn(2, 2, func(c *Call) (any, error) {
		base, rel, err := twoStrings(c)
		if err != nil {
			return nil, err
		}
		b, err := url.Parse(base)
		if err != nil || !b.IsAbs() {
			return nil, c.Errorf("the base URI '%s' is not an absolute URI.", base)
		}
		r, err := url.Parse(rel)
		if err != nil {
			return nil, c.Errorf("the relative URI '%s' is not valid.", rel)
		}
		return c.result(b.ResolveReference(r).String())
	})
	m["uricomponent"] = fn(1, 1, func(c *Call) (any, error) {
		s, err := c.String(0)
		if err != nil {
			return nil, err
		}
		return c.result(escapeDataString(s))
	})
	m["uricomponenttostring"] = fn(1, 1, func(c *Call) (any, error) {
		s, err := c.String(0)
		if err != nil {
			return nil, err
		}
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, c.Errorf("'%s' is not a valid URI component.", s)
		}
		return u, nil
	})
}

func twoStrings(c *Call) (string, string, error) {
	a, err := c.String(0)
	if err != nil {
		return "", "", err
	}
	b, err := c.String(1)
	return a, b, err
}

func decodeBase64(c *Call, i int) ([]byte, error) {
	s, err := c.String(i)
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, c.Errorf("the %s argument '%s' is not a valid base64 string.", ordinal(i), truncate(s))
	}
	return b, nil
}

// parseJSON is json(): any JSON value, numbers normalized.
func parseJSON(c *Call, s string) (any, error) {
	if err := c.Spend(len(s)); err != nil {
		return nil, err
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, c.Errorf("the argument '%s' is not valid JSON: %v.", truncate(s), err)
	}
	if d.More() {
		return nil, c.Errorf("the argument '%s' has more than one JSON value.", truncate(s))
	}
	return Normalize(v), nil
}

// dataURIToString decodes data:[<mediatype>][;base64],<data>.
func dataURIToString(c *Call) (any, error) {
	s, err := c.String(0)
	if err != nil {
		return nil, err
	}
	comma := strings.IndexByte(s, ',')
	if !strings.HasPrefix(s, "data:") || comma < 0 {
		return nil, c.Errorf("the argument '%s' is not a valid data URI.", truncate(s))
	}
	meta, data := s[len("data:"):comma], s[comma+1:]
	if strings.HasSuffix(meta, ";base64") {
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return nil, c.Errorf("the data URI '%s' has invalid base64 data.", truncate(s))
		}
		return string(b), nil
	}
	u, err := url.PathUnescape(data)
	if err != nil {
		return nil, c.Errorf("the data URI '%s' has invalid escapes.", truncate(s))
	}
	return u, nil
}

func padLeft(c *Call) (any, error) {
	v, err := c.Arg(0)
	if err != nil {
		return nil, err
	}
	var s string
	switch v.(type) {
	case string, int64, int:
		s = String(v)
	default:
		return nil, c.typeErr(0, "String")
	}
	n, err := c.Int(1)
	if err != nil {
		return nil, err
	}
	if n > MaxPadLength {
		return nil, c.Errorf("the total length %d is greater than %d.", n, MaxPadLength)
	}
	pad := " "
	if c.Len() > 2 {
		if pad, err = c.String(2); err != nil {
			return nil, err
		}
		if utf8.RuneCountInString(pad) != 1 {
			return nil, c.Errorf("the padding character must be a single character, not '%s'.", truncate(pad))
		}
	}
	short := int(n) - utf8.RuneCountInString(s)
	if short <= 0 {
		return s, nil
	}
	return c.result(strings.Repeat(pad, short) + s)
}

// split is .NET's String.Split(string[], None): at each position the
// first delimiter (in the order given) that matches splits.
func split(c *Call) (any, error) {
	s, err := c.String(0)
	if err != nil {
		return nil, err
	}
	v, err := c.Arg(1)
	if err != nil {
		return nil, err
	}
	var delims []string
	switch d := v.(type) {
	case string:
		delims = []string{d}
	case []any:
		for _, e := range d {
			ds, ok := e.(string)
			if !ok {
				return nil, c.Errorf("the delimiters must be strings, not '%s'.", TypeName(e))
			}
			delims = append(delims, ds)
		}
	default:
		return nil, c.typeErr(1, "String")
	}
	out := []any{}
	start := 0
	for i := 0; i < len(s); {
		matched := false
		for _, d := range delims {
			if d != "" && strings.HasPrefix(s[i:], d) {
				out = append(out, s[start:i])
				i += len(d)
				start = i
				matched = true
				break
			}
		}
		if !matched {
			i++
		}
	}
	out = append(out, s[start:])
	return out, c.Spend(len(out))
}

func substring(c *Call) (any, error) {
	s, err := c.String(0)
	if err != nil {
		return nil, err
	}
	start, err := c.Int(1)
	if err != nil {
		return nil, err
	}
	r := []rune(s)
	length := int64(len(r)) - start
	if c.Len() > 2 {
		if length, err = c.Int(2); err != nil {
			return nil, err
		}
	}
	if start < 0 || start > int64(len(r)) {
		return nil, c.Errorf("The index parameter cannot be less than zero or greater than the length of the string. The index parameter: '%d', the length of the string parameter: '%d'.", start, len(r))
	}
	if length < 0 || start+length > int64(len(r)) {
		return nil, c.Errorf("The index and length parameters must refer to a location within the string. The index parameter: '%d', the length parameter: '%d', the length of the string parameter: '%d'.", start, length, len(r))
	}
	return string(r[start : start+length]), nil
}

// escapeDataString is .NET's Uri.EscapeDataString: everything but the
// unreserved characters is percent-encoded (UTF-8).
func escapeDataString(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch|0x20 >= 'a' && ch|0x20 <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.' || ch == '~' {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[ch>>4])
		b.WriteByte(hex[ch&15])
	}
	return b.String()
}

func lower(s string) string { return strings.ToLower(s) }
