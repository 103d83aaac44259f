package uploadpeers_test

import "github.com/cellgate/cellgate/internal/testrig/uploadrig"

// The rig shared with the upload package's own tests.
var (
	newFUS      = uploadrig.NewFUS
	fixed       = uploadrig.Fixed
	mount       = uploadrig.Mount
	newHandler  = uploadrig.NewHandler
	uploadPath  = uploadrig.Path
	put         = uploadrig.Put
	readProblem = uploadrig.ReadProblem
	readAnswer  = uploadrig.ReadAnswer
	sha         = uploadrig.SHA
	payload     = uploadrig.Payload
)

type (
	answer = uploadrig.Answer
)
