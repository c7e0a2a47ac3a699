// Rules of a batch/v1 JobSpec shared by Job and by the jobTemplate of CronJob.
// Thread safety: free functions over caller-owned values.
#pragma once

#include <string>

#include <boost/json/fwd.hpp>

#include "api/kinds/strategy_support.h"

namespace skiff::api::kinds {

// validateJobSpec: counts, deadlines, completion mode, failure and success policies,
// the pod replacement policy and the pod template (restartPolicy OnFailure or Never).
// `path` is "spec" or "spec.jobTemplate.spec". The selector is not checked here.
void ValidateJobSpecRules(const boost::json::object& spec, const std::string& path,
                          FieldErrors& errs);

}  // namespace skiff::api::kinds
