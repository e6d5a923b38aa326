{
	"schema":	"tenken.sig/1",
	"alg":	"Ed25519",
	"partner":	"acme-v1",
	"seq":	1,
	"run_id":	"9b4a7a01-a8af-4aec-bb5a-16289657d9be",
	"report_sha256":	"cb502071b141222131c6d7ba3a32a666bd4ac5f461c9142375f4a453cc344336",
	"previous_sha256":	"",
	"key_fingerprint":	"SHA256:d0ac2338b6479c300fc58532cfc000ac19efdbeb5ed2705a213820b563f7dd94",
	"public_key":	"hp88jozqyGLFqk7hjkknEZsBlMzObc4fXY+ecH7Xl5c=",
	"signature":	"k3CUxnqD0ilvJwRBRdbMa71IRsRwoq1JFIRtRKFMc5GggWqlXxdlnJ8YMwU5ZQo2R1fcMZK2NkdVJ5e91eVbCA=="
}