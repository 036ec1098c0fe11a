// Package expr evaluates ARM's template expression language: the text
// between "[" and "]" in a template or policy string value, such as
// "[concat(parameters('prefix'), uniqueString(resourceGroup().id))]".
//
// Parse turns expression text into an Expr; ParseValue and EvaluateValue
// do the same for whole JSON trees whose strings (and property names) may
// hold expressions. Evaluation needs a Context, through which the caller
// supplies what only it knows: parameter and variable values, copy loop
// indexes, the deployment scope, and extra functions (reference, list*,
// policy's field, ...).
//
// Values are plain JSON values in one form: nil, bool, int64 (integers),
// float64 (only numbers with a fraction, from json() or float()), string,
// []any and map[string]any. Normalize brings decoded JSON into that form.
//
// Every error the package returns is an *Error.
package expr
