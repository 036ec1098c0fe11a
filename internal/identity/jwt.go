package identity

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// maxTokenLength bounds the tokens Authenticate looks at. Issued tokens are
// about 1.3 KB; anything far larger is refused before any decoding.
const maxTokenLength = 16 << 10

// b64 is the strict unpadded base64url of JWS compact serialization: it
// rejects padding and non-zero trailing bits, so each token has exactly one
// textual form.
var b64 = base64.RawURLEncoding.Strict()

// jwtHeader is the JOSE header of issued tokens, in Entra ID's field order.
type jwtHeader struct {
	Typ string `json:"typ,omitempty"`
	Alg string `json:"alg"`
	X5t string `json:"x5t,omitempty"`
	Kid string `json:"kid,omitempty"`
	// Crit lists extensions a verifier must understand (RFC 7515 4.1.11);
	// armlet understands none, so any token carrying it is refused.
	Crit json.RawMessage `json:"crit,omitempty"`
}

// sign returns the compact JWS (RS256) of claims, which must marshal to a
// JSON object.
func (k *signingKey) sign(claims any) (string, error) {
	hdr, err := json.Marshal(jwtHeader{Typ: "JWT", Alg: "RS256", X5t: k.kid, Kid: k.kid})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	sb.Grow(b64.EncodedLen(len(hdr)) + b64.EncodedLen(len(payload)) + 2 + b64.EncodedLen(k.priv.Size()))
	sb.WriteString(b64.EncodeToString(hdr))
	sb.WriteByte('.')
	sb.WriteString(b64.EncodeToString(payload))
	digest := sha256.Sum256([]byte(sb.String()))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.priv, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	sb.WriteByte('.')
	sb.WriteString(b64.EncodeToString(sig))
	return sb.String(), nil
}

// tokenError is why a token failed verification; msg is the client-facing
// message of the InvalidAuthenticationToken error.
type tokenError struct{ msg string }

func (e *tokenError) Error() string { return e.msg }

// Verification failures, each with the message ARM-style clients see.
var (
	errMalformed    = &tokenError{"The access token is invalid."}
	errAlgorithm    = &tokenError{"The access token signing algorithm is not supported; tokens must be signed with RS256."}
	errUnknownKey   = &tokenError{"The access token was signed with an unknown key."}
	errBadSignature = &tokenError{"The access token signature is invalid."}
)

// verifyJWT checks that token is a compact JWS signed with RS256 by key and
// returns its claims. It checks the structure and the signature only; claim
// values (iss, exp, aud, ...) are the caller's business.
//
// Contract (what FuzzParseToken asserts): if the error is nil, the signature
// is a valid RSASSA-PKCS1-v1_5 SHA-256 signature by key over the first two
// segments of token, and the claims are the JSON object in the payload.
func verifyJWT(token string, key *signingKey) (map[string]any, *tokenError) {
	if len(token) == 0 || len(token) > maxTokenLength {
		return nil, errMalformed
	}
	dot1 := strings.IndexByte(token, '.')
	dot2 := strings.LastIndexByte(token, '.')
	if dot1 <= 0 || dot2 == dot1 || strings.IndexByte(token[dot1+1:dot2], '.') >= 0 || dot2 == len(token)-1 {
		return nil, errMalformed
	}
	hdrBytes, err := b64.DecodeString(token[:dot1])
	if err != nil {
		return nil, errMalformed
	}
	var hdr jwtHeader
	if err := json.Unmarshal(hdrBytes, &hdr); err != nil || !isJSONObject(hdrBytes) {
		return nil, errMalformed
	}
	if hdr.Alg != "RS256" || len(hdr.Crit) != 0 {
		return nil, errAlgorithm
	}
	switch {
	case hdr.Kid != "":
		if hdr.Kid != key.kid {
			return nil, errUnknownKey
		}
	case hdr.X5t != key.kid:
		return nil, errUnknownKey
	}
	sig, err := b64.DecodeString(token[dot2+1:])
	if err != nil || len(sig) != key.pub.Size() {
		return nil, errBadSignature
	}
	digest := sha256.Sum256([]byte(token[:dot2]))
	if rsa.VerifyPKCS1v15(key.pub, crypto.SHA256, digest[:], sig) != nil {
		return nil, errBadSignature
	}
	payload, err := b64.DecodeString(token[dot1+1 : dot2])
	if err != nil || !isJSONObject(payload) {
		return nil, errMalformed
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil || claims == nil {
		return nil, errMalformed
	}
	return claims, nil
}

// isJSONObject reports whether b, ignoring white space, starts like a JSON
// object (json.Unmarshal then checks the rest).
func isJSONObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}
