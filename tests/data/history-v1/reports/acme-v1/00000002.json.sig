{
	"schema":	"tenken.sig/1",
	"alg":	"Ed25519",
	"partner":	"acme-v1",
	"seq":	2,
	"run_id":	"366a7f3a-5726-48c1-840d-b5434ec4047b",
	"report_sha256":	"e409f388f34cbce096ec227ad4d4f253958de765f2048ab2213cd682a9a4bdf4",
	"previous_sha256":	"cb502071b141222131c6d7ba3a32a666bd4ac5f461c9142375f4a453cc344336",
	"key_fingerprint":	"SHA256:d0ac2338b6479c300fc58532cfc000ac19efdbeb5ed2705a213820b563f7dd94",
	"public_key":	"hp88jozqyGLFqk7hjkknEZsBlMzObc4fXY+ecH7Xl5c=",
	"signature":	"HF3g9hlPK0rAm80tLX5JZOxo+gPs0rMWzeezjGcNDLzmWZUPZFqVTowIL/ccoX7EaDrYpEe2bhul8OPw2Q6zAw=="
}