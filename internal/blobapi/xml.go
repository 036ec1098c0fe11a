package blobapi

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"

	"github.com/armlet/armlet/internal/engine"
)

// maxBlocks is the most blocks a block blob has, committed or not.
const maxBlocks = 50000

// maxBlockListBytes bounds a Put Block List body: 50,000 entries of the
// longest block id (64 bytes, 88 in base64) with their tags fit.
const maxBlockListBytes = 8 << 20

// blockRef is one entry of a Put Block List body: which list to take the
// block from ("Committed", "Uncommitted" or "Latest") and its id.
type blockRef struct {
	List string
	ID   string
}

// parseBlockList reads Put Block List's <BlockList> body, keeping the
// entries' order. Any malformed body or block id is 400
// InvalidXmlDocument or InvalidBlockList.
func parseBlockList(r io.Reader) ([]blockRef, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBlockListBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxBlockListBytes {
		return nil, storageErr(http.StatusRequestEntityTooLarge, CodeRequestBodyTooLarge, "The request body is too large and exceeds the maximum permissible limit.")
	}
	invalid := storageErr(http.StatusBadRequest, CodeInvalidXML, "XML specified is not syntactically valid.")
	d := xml.NewDecoder(bytes.NewReader(data))
	var out []blockRef
	depth := 0
	var cur string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, invalid
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 1 && t.Name.Local != "BlockList":
				return nil, invalid
			case depth == 2 && (t.Name.Local == "Committed" || t.Name.Local == "Uncommitted" || t.Name.Local == "Latest"):
				cur = t.Name.Local
				var id string
				if err := d.DecodeElement(&id, &t); err != nil {
					return nil, invalid
				}
				depth--
				if !validBlockID(id) {
					return nil, storageErr(http.StatusBadRequest, CodeInvalidBlockList, "The specified block list is invalid.")
				}
				out = append(out, blockRef{List: cur, ID: id})
				if len(out) > maxBlocks {
					return nil, storageErr(http.StatusBadRequest, CodeInvalidBlockList, "The specified block list is invalid: it has more than %d blocks.", maxBlocks)
				}
			case depth >= 2:
				return nil, invalid
			}
		case xml.EndElement:
			depth--
		case xml.CharData, xml.Comment, xml.ProcInst:
		default:
			return nil, invalid
		}
	}
	if depth != 0 {
		return nil, invalid
	}
	return out, nil
}

// validBlockID: a block id is base64 of at most 64 bytes.
func validBlockID(id string) bool {
	b, err := base64.StdEncoding.DecodeString(id)
	return err == nil && len(b) > 0 && len(b) <= 64
}

type blockXML struct {
	Name string `xml:"Name"`
	Size int64  `xml:"Size"`
}

// blockListXML is Get Block List's body.
type blockListXML struct {
	XMLName     xml.Name    `xml:"BlockList"`
	Committed   *[]blockXML `xml:"CommittedBlocks>Block"`
	Uncommitted *[]blockXML `xml:"UncommittedBlocks>Block"`
}

// xmlResponse is an XML body with Storage's content type.
func xmlResponse(status int, h http.Header, v any) (*engine.Response, error) {
	b, err := xml.Marshal(v)
	if err != nil {
		return nil, err
	}
	data := append([]byte(xml.Header[:len(xml.Header)-1]), b...)
	return &engine.Response{Status: status, Header: h, Body: engine.RawBody{ContentType: "application/xml", Data: data}}, nil
}
