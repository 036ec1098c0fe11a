package workspaceapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/armlet/armlet/internal/arm"
)

func userError(status int, target, format string, args ...any) *arm.Error {
	return arm.Errorf(status, arm.CodeUserError, format, args...).WithTarget(target)
}

func badRequest(target, format string, args ...any) *arm.Error {
	return userError(http.StatusBadRequest, target, format, args...)
}

func notFound(format string, args ...any) *arm.Error {
	return userError(http.StatusNotFound, "", format, args...)
}

// object is a decoded JSON object whose members are looked up ignoring
// case, as the .NET services deserialize them.
type object map[string]any

// decodeObject decodes a JSON object body. An empty body is an empty
// object when optional, else a 400.
func decodeObject(body []byte, optional bool) (object, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return object{}, nil
		}
		return nil, badRequest("", "The request body is required.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badRequest("", "The request body is not valid JSON: %s.", jsonError(err))
	}
	if dec.More() {
		return nil, badRequest("", "The request body is not valid JSON: additional text after the end of the content.")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest("", "The request body must be a JSON object.")
	}
	return object(m), nil
}

func jsonError(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s at offset %d", syn.Error(), syn.Offset)
	}
	return err.Error()
}

// get returns the member name (ignoring case) and whether it is present
// and not null.
func (o object) get(name string) (any, bool) {
	if v, ok := o[name]; ok {
		return v, v != nil
	}
	for k, v := range o {
		if strings.EqualFold(k, name) {
			return v, v != nil
		}
	}
	return nil, false
}

// str returns a string member ("" when absent or null).
func (o object) str(name string) (string, bool, error) {
	v, ok := o.get(name)
	if !ok {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", false, badRequest(name, "The value of '%s' must be a string.", name)
	}
	return s, true, nil
}

// boolean returns a boolean member.
func (o object) boolean(name string) (bool, bool, error) {
	v, ok := o.get(name)
	if !ok {
		return false, false, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, false, badRequest(name, "The value of '%s' must be a boolean.", name)
	}
	return b, true, nil
}

// obj returns an object member.
func (o object) obj(name string) (object, bool, error) {
	v, ok := o.get(name)
	if !ok {
		return nil, false, nil
	}
	m, isObj := v.(map[string]any)
	if !isObj {
		return nil, false, badRequest(name, "The value of '%s' must be a JSON object.", name)
	}
	return object(m), true, nil
}

// list returns an array member.
func (o object) list(name string) ([]any, bool, error) {
	v, ok := o.get(name)
	if !ok {
		return nil, false, nil
	}
	l, isList := v.([]any)
	if !isList {
		return nil, false, badRequest(name, "The value of '%s' must be a JSON array.", name)
	}
	return l, true, nil
}

// stringMap returns a member that must map names to strings (tags,
// properties).
func (o object) stringMap(name string) (map[string]string, bool, error) {
	m, ok, err := o.obj(name)
	if err != nil || !ok {
		return nil, ok, err
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case string:
			out[k] = v
		case nil:
			out[k] = ""
		default:
			return nil, false, badRequest(name+"."+k, "The value of '%s.%s' must be a string.", name, k)
		}
	}
	return out, true, nil
}

// Name rules. Choice: armlet's; the services' own are undocumented beyond
// "alphanumeric characters with dashes and underscores" for run ids.
var (
	experimentName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$`)
	runIDPattern   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	datastoreName  = regexp.MustCompile(`^[A-Za-z0-9_]{1,255}$`)
	modelName      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$`)
	containerName  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,255}$`)
)

func checkName(kind, target, name string, re *regexp.Regexp) error {
	if !re.MatchString(name) {
		return badRequest(target, "The %s '%s' is not valid: it must match %s.", kind, name, re.String())
	}
	return nil
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
