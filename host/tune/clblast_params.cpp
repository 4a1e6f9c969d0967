/* The one C++ file: clblast::RetrieveParameters has no C binding (CLBlast 1.5 and 1.6). */
#include "claug/tune/clblast_params.h"

#include <clblast.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

int clblast_retrieve_params(cl_device_id device, const char *kernel, int max, size_t namelen, char *names,
                            size_t *values, int *n) {
    try {
        std::unordered_map<std::string, size_t> params;
        clblast::StatusCode st = clblast::RetrieveParameters(device, kernel, clblast::Precision::kSingle, params);
        if (st != clblast::StatusCode::kSuccess) return static_cast<int>(st);
        std::vector<std::string> keys;
        for (const auto &p : params) keys.push_back(p.first);
        std::sort(keys.begin(), keys.end()); /* a fixed order: the same set always reads the same */
        if (keys.size() > static_cast<size_t>(max))
            return static_cast<int>(clblast::StatusCode::kInsufficientMemoryTemp);
        for (size_t i = 0; i < keys.size(); i++) {
            if (keys[i].size() >= namelen) return static_cast<int>(clblast::StatusCode::kInsufficientMemoryTemp);
            std::memcpy(names + i * namelen, keys[i].c_str(), keys[i].size() + 1);
            values[i] = params[keys[i]];
        }
        *n = static_cast<int>(keys.size());
        return 0;
    } catch (...) {
        return static_cast<int>(clblast::StatusCode::kUnknownError);
    }
}
