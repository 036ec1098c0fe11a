package expr

import (
	"errors"
	"fmt"
)

// Error is the one error type of the package: a parse error (Pos >= 0) or
// an evaluation error (Pos < 0). The template engine wraps it as ARM's
// InvalidTemplate with the member path; policy as its own 400.
type Error struct {
	// Expression is the expression text without its brackets, when known.
	Expression string
	// Pos is the byte offset in Expression a parse error is at, or -1.
	Pos int
	// Function is the function the error is about, lower-cased, if any.
	Function string
	// Message says what is wrong, in the style of Azure's messages.
	Message string
	// Path is the member of a JSON tree the expression is in
	// ("properties.subnets[0].name"), when it came from a Tree.
	Path string
	// Err is the error a caller's function returned, if that is the cause.
	Err error
}

func (e *Error) Error() string {
	if e.Expression == "" {
		return e.Message
	}
	return fmt.Sprintf("The template language expression '%s' is not valid: %s", e.Expression, e.Message)
}

// Unwrap returns the caller's error the Error wraps, so errors.As finds it.
func (e *Error) Unwrap() error { return e.Err }

// AsError returns err as an *Error, wrapping a foreign error.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Pos: -1, Message: err.Error(), Err: err}
}

func parseErr(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Message: fmt.Sprintf(format, args...)}
}

// evalErr is an error not tied to one function (member access, limits).
func evalErr(format string, args ...any) *Error {
	return &Error{Pos: -1, Message: fmt.Sprintf(format, args...)}
}

// funcErr is Azure's "Unable to evaluate template language function"
// error for fn.
func funcErr(fn, format string, args ...any) *Error {
	return &Error{Pos: -1, Function: fn, Message: fmt.Sprintf("Unable to evaluate template language function '%s': %s", fn, fmt.Sprintf(format, args...))}
}

// unknownFunc is Azure's error for a name that is not a function.
func unknownFunc(name string) *Error {
	return &Error{Pos: -1, Function: name, Message: fmt.Sprintf("The template function '%s' is not valid. Please see https://aka.ms/arm-functions for usage details.", name)}
}

// withExpr records the expression text on err (once: the innermost
// expression wins, since variables evaluate expressions of their own).
func withExpr(err error, text string) error {
	e := AsError(err)
	if e.Expression == "" {
		c := *e
		c.Expression = text
		return &c
	}
	return e
}
