#include "core/locks/curator_604.h"

#include "core/locks/recipe.h"

namespace lockstep::locks {

// The recipe on Curator's client; the fix is the ephemeralOwner check (curator_604.h).
std::unique_ptr<Lock> make_curator_604(LockContext ctx) {
  const bool bug = ctx.options.boolean("bug");
  return make_recipe_on_curator(
      std::move(ctx), {.gives_up_suspended_sessions = true, .node_of_this_session_only = !bug});
}

}  // namespace lockstep::locks
