#include "core/locks/curator_678.h"

#include "core/locks/recipe.h"

namespace lockstep::locks {

// The acquire side is the recipe's; only release differs (curator_678.h).
std::unique_ptr<Lock> make_curator_678(LockContext ctx) {
  const ReleaseDelete release = ctx.options.boolean("bug") ? ReleaseDelete::OneTryThenForget
                                                           : ReleaseDelete::OneTryThenBackground;
  return make_recipe_releasing(std::move(ctx), release);
}

}  // namespace lockstep::locks
