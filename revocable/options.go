package revocable

// Option configures a Provider (NewProvider, DevmProvider).
type Option func(*options)

type options struct {
	name string
}

// WithName names the provider in trace events, schedule points and panic
// messages. The default is "revocable", which an empty name keeps.
func WithName(name string) Option {
	return func(o *options) {
		if name != "" {
			o.name = name
		}
	}
}
