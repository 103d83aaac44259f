package experiment

// Bucket is the bucket of hash among total weights, as index computes it.
func Bucket(hash uint32, total uint64) uint64 { return (uint64(hash) * total) >> 32 }

// Hash is hashKeyUnit.
func Hash(key, unit string) uint32 { return hashKeyUnit(key, unit) }

// ChiSquareSurvival is chiSquareSurvival.
func ChiSquareSurvival(x float64, k int) float64 { return chiSquareSurvival(x, k) }
