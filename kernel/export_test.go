package kernel

// SetKrefMax lowers where a Kref saturates, for a test that cannot take
// 2^31 references; it returns the function that restores the limit.
func SetKrefMax(n int64) (restore func()) {
	old := krefMax
	krefMax = n
	return func() { krefMax = old }
}
