package v10

import (
	"errors"

	"github.com/drvsim/drvsim/env"
)

// ErrNoDevice is what RevocableTryAccessOrReturn returns when the resource is
// gone (-ENODEV).
var ErrNoDevice = errors.New("ENODEV: no such device")

// freeAccessRev models the DEFINE_FREE(access_rev, ...) cleanup every
// macro attaches to its handle:
//
//	revocable_withdraw_access(_T);
//	revocable_handle_deinit(_T);
func freeAccessRev(rh *RevocableHandle) {
	RevocableWithdrawAccess(rh)
	RevocableHandleDeinit(rh)
}

// access is _revocable_try_access_with and its scoped form: a handle on
// the stack with the access_rev cleanup, revocable_handle_init(rev, &_rh), then
// res = revocable_try_access(&_rh); body is the rest of the scope.
func access(rev *Revocable, body func(res *env.Object)) {
	var rh RevocableHandle // struct revocable_handle _rh;
	defer freeAccessRev(&rh)
	RevocableHandleInit(rev, &rh)
	body(RevocableTryAccess(&rh))
}

// RevocableTryAccessWith models revocable_try_access_with(rev, res) and
// revocable_try_access_with_scoped(rev, res): body runs with the resource,
// NULL (nil) when it is gone, inside a read section on a handle of its
// own, and the section is left and the handle's reference dropped when
// body returns. (The two macros differ only in C's scoping; in Go the
// scope is body.)
func RevocableTryAccessWith(rev *Revocable, body func(res *env.Object)) {
	access(rev, body)
}

// RevocableTryAccessOrReturnErr models
// revocable_try_access_or_return_err(rev, res, err) and its _scoped form:
// when the resource is gone the enclosing function returns err at once
// (here: body does not run and err is returned); otherwise body runs with
// it and its error is returned.
func RevocableTryAccessOrReturnErr(rev *Revocable, err error, body func(res *env.Object) error) error {
	var ret error
	access(rev, func(res *env.Object) {
		if res == nil {
			ret = err
			return
		}
		ret = body(res)
	})
	return ret
}

// RevocableTryAccessOrReturn models revocable_try_access_or_return(rev,
// res) and its _scoped form: RevocableTryAccessOrReturnErr with -ENODEV.
func RevocableTryAccessOrReturn(rev *Revocable, body func(res *env.Object) error) error {
	return RevocableTryAccessOrReturnErr(rev, ErrNoDevice, body)
}

// RevocableTryAccessOrSkip models revocable_try_access_or_skip_scoped(rev,
// res) and revocable_try_access_or_return_void(rev, res): body runs only
// when the resource is there.
func RevocableTryAccessOrSkip(rev *Revocable, body func(res *env.Object)) {
	access(rev, func(res *env.Object) {
		if res != nil {
			body(res)
		}
	})
}
