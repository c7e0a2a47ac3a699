// Cron schedules and time zones as the CronJob controller accepts them: the standard
// five-field format and the @-descriptors of robfig/cron (ParseStandard), worded with
// that parser's error messages, and IANA time zone names checked against the host's
// zoneinfo database.
// Thread safety: free functions.
#pragma once

#include <string>
#include <string_view>

namespace skiff::api::kinds {

// Empty when `schedule` parses; otherwise the parser's error ("expected exactly 5
// fields, found 3: [a b c]", "end of range (60) above maximum (59): 60", ...).
std::string CronScheduleError(std::string_view schedule);

// Empty when `zone` names a loadable time zone (time.LoadLocation); otherwise
// Kubernetes' message for the field.
std::string TimeZoneError(std::string_view zone);

}  // namespace skiff::api::kinds
