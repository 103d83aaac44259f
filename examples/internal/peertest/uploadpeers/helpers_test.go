package uploadpeers_test

import "github.com/cellgate/cellgate/internal/uploadrig"

// The rig shared with the upload package's own tests.
var (
	fusKey      = uploadrig.FUSKey
	us01        = uploadrig.US01
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
	fus     = uploadrig.FUS
	problem = uploadrig.Problem
	answer  = uploadrig.Answer
)
