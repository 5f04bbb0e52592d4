package v3

import (
	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable/kernelmodel/klib"
)

// DevmRevocableProviderAlloc models devm_revocable_provider_alloc(dev,
// res), with the device's devres list standing for dev:
//
//	rp = revocable_provider_alloc(res);
//	if (devm_add_action_or_reset(dev, devm_revocable_provider_free, rp))
//		return NULL;
//	return rp;
//
// The action (devm_revocable_provider_free) calls RevocableProviderFree
// when the list is released (unbind, failed probe).
func DevmRevocableProviderAlloc(k *klib.Kernel, dev *devres.List, res *env.Object) *RevocableProvider {
	rp := RevocableProviderAlloc(k, res)
	if _, err := dev.AddOrReset("devm_revocable_provider_free", func() { RevocableProviderFree(rp) }); err != nil {
		return nil
	}
	return rp
}
