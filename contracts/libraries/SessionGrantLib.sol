// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ValueMovingSelectors} from "./ValueMovingSelectors.sol";

/// @dev What the owner signs (EIP-712) to grant a session that anyone may then submit. Designed to be read on a
/// Ledger: the app shows the fields in this order, so each target comes with its functions and their argument rules,
/// each budget with its period, functions by their signature text and periods as words ("1 day"). The session module
/// derives what it enforces from these very fields (see {SessionGrantLib}); nothing enforced is absent from them.
/// The field order is the order the device shows (never in storage, so packing does not apply).
// solhint-disable-next-line gas-struct-packing
struct SessionGrant {
    address account;
    address agent;
    uint32 sessionId;
    // The session is valid strictly after validAfter and up to and including validUntil (unix seconds).
    uint48 validAfter;
    uint48 validUntil;
    // Budgets the SpendLimitHook enforces (token zero = native currency, gas included); see SpendLimitHook.
    GrantBudget[] budgets;
    // Most native value one call may carry: token zero; the maximum uint256 ("Unlimited") for no cap.
    GrantAmount valueCapPerCall;
    // What the session may call: each (target, function) pair, a target's pairs listed together.
    GrantScope[] scope;
    // Rules on the static arguments of the functions listed in `scope`, each naming its target and function, in two
    // lists by what the value is, so that the device shows each value as what it is: an address, or a number (an
    // amount in base units, a bool as 0 or 1).
    GrantAddressRule[] addressRules;
    GrantNumberRule[] numberRules;
    bool canSignMessages;
    // Paymasters the session may use (empty: none, the account pays gas from its native budget).
    address[] paymasters;
    // The account's revocation epoch when the owner signed: a kill switch pulled since voids the grant.
    uint32 epoch;
    // Any number not used before for this account (grants and signed revocations share the space).
    uint256 nonce;
}

/// @dev An amount of a token (zero: the native currency), in its base units. Each amount carries its token so that a
/// Ledger shows it scaled and named ("100 USDC"): the app joins an amount with the token field just before it.
struct GrantAmount {
    address token;
    uint256 amount;
}

/// @dev One budget: most `limit` per `period`, most `perCallCap` per op, both of the same token. A per-op cap of the
/// maximum uint256 ("Unlimited") is no cap; a cap of 0 is refused, since it would read as "nothing".
struct GrantBudget {
    GrantAmount limit;
    // "lifetime" (no reset), or "<n> <unit>" with unit second / minute / hour / day / week, plural unless n is 1.
    string period;
    GrantAmount perCallCap;
}

/// @dev One function the session may call on `target`: its signature text ("transfer(address,uint256)"), whose
/// keccak-256 gives the selector enforced, or one of the pseudo-functions "(plain transfer)" (empty calldata), "(any
/// function)" (any call, standard value-moving functions excluded) and "(sign typed data)" (EIP-712 messages of the
/// target's domain). A pair per entry, not a target with an array of functions: no nested array, which independent
/// ERC-7730 renderers do not expand (docs/erc7730/README.md).
struct GrantScope {
    address target;
    string signature;
}

/// @dev A rule on one static argument of a function listed in `scope`, whose parameter is an `address`: for calls of
/// `signature` on `target`, argument number `argument` (1 = the first) "equals", is "at most" or is "at least" `value`.
/// Several "equals" on one argument: one of them. (Rules are separate lists rather than an array inside each function:
/// Ledger's Ethereum app 1.22.0 hashes an empty array of structs wrongly when it ends an array element that another
/// element follows.) The field order is the order the device shows.
// solhint-disable-next-line gas-struct-packing
struct GrantAddressRule {
    address target;
    string signature;
    uint8 argument;
    string condition;
    address value;
}

/// @dev As {GrantAddressRule}, for a `uintN` parameter (shown as a number: an amount in base units, an id) or a `bool`
/// (0 = false, 1 = true). The value is below 2^232 and fits the parameter. (Not an amount joined with its token, as
/// budgets are: Ledger's Ethereum app cannot take the display rules of an amount-with-token inside an empty array,
/// which a grant without such rules would have; see docs/erc7730/README.md.)
// solhint-disable-next-line gas-struct-packing
struct GrantNumberRule {
    address target;
    string signature;
    uint8 argument;
    string condition;
    uint256 value;
}

/// @title SessionGrantLib
/// @notice The EIP-712 hashing of a {SessionGrant} and its translation into what the session module and the
/// spend-limit hook enforce. Pure functions: the module checks the result (scope, rules, time) as for any grant.
library SessionGrantLib {
    bytes32 internal constant GRANT_ADDRESS_RULE_TYPEHASH = keccak256(
        "GrantAddressRule(address target,string signature,uint8 argument,string condition,address value)"
    );
    bytes32 internal constant GRANT_NUMBER_RULE_TYPEHASH = keccak256(
        "GrantNumberRule(address target,string signature,uint8 argument,string condition,uint256 value)"
    );
    bytes32 internal constant GRANT_SCOPE_TYPEHASH = keccak256("GrantScope(address target,string signature)");
    bytes32 internal constant GRANT_AMOUNT_TYPEHASH = keccak256("GrantAmount(address token,uint256 amount)");
    bytes32 internal constant GRANT_BUDGET_TYPEHASH = keccak256(
        "GrantBudget(GrantAmount limit,string period,GrantAmount perCallCap)GrantAmount(address token,uint256 amount)"
    );
    bytes32 internal constant SESSION_GRANT_TYPEHASH = keccak256(
        "SessionGrant(address account,address agent,uint32 sessionId,uint48 validAfter,uint48 validUntil,"
        "GrantBudget[] budgets,GrantAmount valueCapPerCall,GrantScope[] scope,GrantAddressRule[] addressRules,"
        "GrantNumberRule[] numberRules,bool canSignMessages,address[] paymasters,uint32 epoch,uint256 nonce)"
        "GrantAddressRule(address target,string signature,uint8 argument,string condition,address value)"
        "GrantAmount(address token,uint256 amount)"
        "GrantBudget(GrantAmount limit,string period,GrantAmount perCallCap)"
        "GrantNumberRule(address target,string signature,uint8 argument,string condition,uint256 value)"
        "GrantScope(address target,string signature)"
    );

    /// @dev The pseudo-functions' texts, and the selectors the module stores for them.
    bytes32 private constant _PLAIN_TRANSFER = keccak256("(plain transfer)");
    bytes32 private constant _ANY_FUNCTION = keccak256("(any function)");
    bytes32 private constant _SIGN_TYPED_DATA = keccak256("(sign typed data)");
    bytes4 private constant _SELECTOR_NO_CALLDATA = 0x00000000;
    bytes4 private constant _SELECTOR_ANY = 0xffffffff;
    bytes4 private constant _SELECTOR_SIGN = 0xfffffffe;

    /// @dev The conditions' texts (RULE_EQ = 1, RULE_LE = 2, RULE_GE = 3 in the module).
    bytes32 private constant _EQUALS = keccak256("equals");
    bytes32 private constant _AT_MOST = keccak256("at most");
    bytes32 private constant _AT_LEAST = keccak256("at least");

    /// @dev Rule word layout, as the module's (low to high): value (232), op (8), argument index (8), entry (8).
    uint256 private constant _RULE_VALUE_LIMIT = 1 << 232;

    /// @dev A rule of either list, its value as a number, and whether it is an address rule (it reads an `address`
    /// parameter; a number rule reads a `uintN` or a `bool`).
    // solhint-disable-next-line gas-struct-packing
    struct FlatRule {
        address target;
        string signature;
        uint8 argument;
        string condition;
        uint256 value;
        bool isAddress;
    }

    /// @notice A function text that is neither a well-formed signature `name(types)` nor a pseudo-function.
    error GrantFunctionInvalid(string signature);
    /// @notice A rule's condition is not "equals", "at most" or "at least", it names a function its target does not
    /// list, its argument is not a parameter of that function a rule can read (see {scope}), the parameter is not of
    /// the rule's kind (an address; a number: `uintN` or `bool`), or its value does not fit the parameter or 232 bits.
    error GrantRuleInvalid(uint8 argument, string condition, bytes32 value);
    /// @notice A budget period that is not "lifetime" or "<n> <unit>" in canonical form.
    error GrantPeriodInvalid(string period);
    /// @notice An amount that does not read as what is enforced: a per-op cap of another token than its budget's or
    /// of 0, or a per-call value cap in a token, or above 2^128 - 1 without being "Unlimited".
    error GrantAmountInvalid(address token, uint256 amount);

    uint256 private constant _UNLIMITED = type(uint256).max;

    /// @notice The EIP-712 struct hash of `grant`.
    function hashStruct(SessionGrant memory grant) internal pure returns (bytes32) {
        return
            keccak256(
                bytes.concat(
                    abi.encode(
                        SESSION_GRANT_TYPEHASH,
                        grant.account,
                        grant.agent,
                        grant.sessionId,
                        grant.validAfter,
                        grant.validUntil,
                        _hashBudgets(grant.budgets),
                        _hashAmount(grant.valueCapPerCall)
                    ),
                    abi.encode(
                        _hashScope(grant.scope),
                        _hashAddressRules(grant.addressRules),
                        _hashNumberRules(grant.numberRules),
                        grant.canSignMessages,
                        keccak256(abi.encodePacked(grant.paymasters)),
                        grant.epoch,
                        grant.nonce
                    )
                )
            );
    }

    /// @notice The scope `grant` lists, as the module's flat (target, selector) entries and rule words: entry index
    /// (8) ‖ argument index (8, from 0) ‖ op (8) ‖ value (232), sorted ascending as the module requires (it refuses
    /// two equal rules). A rule must name a function listed for its target, and an argument of it that is one word of
    /// the ABI head of the rule's kind: a rule on a word that is not that parameter (past the end, inside a tuple, an
    /// offset) would read as a restriction and restrict nothing, or something else.
    function scope(
        SessionGrant memory grant
    ) internal pure returns (address[] memory targets, bytes4[] memory selectors, uint256[] memory rules) {
        uint256 entries = grant.scope.length;
        targets = new address[](entries);
        selectors = new bytes4[](entries);
        for (uint256 e = 0; e < entries; ++e) {
            targets[e] = grant.scope[e].target;
            selectors[e] = selectorOf(grant.scope[e].signature);
        }
        uint256 addressCount = grant.addressRules.length;
        rules = new uint256[](addressCount + grant.numberRules.length);
        for (uint256 r = 0; r < rules.length; ++r) {
            FlatRule memory rule;
            if (r < addressCount) {
                GrantAddressRule memory given = grant.addressRules[r];
                rule = FlatRule(
                    given.target,
                    given.signature,
                    given.argument,
                    given.condition,
                    uint160(given.value),
                    true
                );
            } else {
                GrantNumberRule memory given = grant.numberRules[r - addressCount];
                rule = FlatRule(given.target, given.signature, given.argument, given.condition, given.value, false);
            }
            rules[r] = _ruleWord(rule, targets, selectors);
        }
        _sort(rules);
    }

    /// @notice The selector a function text stands for: a pseudo-function's, or the first four bytes of the
    /// signature's keccak-256. Refuses a text that is neither (so what the owner reads is what the chain hashes).
    function selectorOf(string memory signature) internal pure returns (bytes4) {
        bytes32 hash = keccak256(bytes(signature));
        if (hash == _PLAIN_TRANSFER) return _SELECTOR_NO_CALLDATA;
        if (hash == _ANY_FUNCTION) return _SELECTOR_ANY;
        if (hash == _SIGN_TYPED_DATA) return _SELECTOR_SIGN;
        if (!_isSignature(bytes(signature))) revert GrantFunctionInvalid(signature);
        bytes4 selector = bytes4(hash);
        // A real function whose selector happens to be a pseudo-selector would be read as the pseudo-function.
        if (selector == _SELECTOR_NO_CALLDATA || selector == _SELECTOR_ANY || selector == _SELECTOR_SIGN) {
            revert GrantFunctionInvalid(signature);
        }
        // A text that is not the standard signature but shares the selector of a value-moving function (a made-up
        // name found by brute force, `many_msg_babbage(bytes1)` for `transfer`) would let the owner read one thing
        // while the chain allows a transfer or an approval.
        bytes32 standard = ValueMovingSelectors.standardSignatureHash(selector);
        if (standard != bytes32(0) && standard != hash) revert GrantFunctionInvalid(signature);
        return selector;
    }

    /// @notice The per-call native value cap a grant sets: its amount, "Unlimited" as the largest cap.
    function valueCap(SessionGrant memory grant) internal pure returns (uint128) {
        GrantAmount memory cap = grant.valueCapPerCall;
        if (cap.amount == _UNLIMITED && cap.token == address(0)) return type(uint128).max;
        if (cap.token != address(0) || cap.amount > type(uint128).max) revert GrantAmountInvalid(cap.token, cap.amount);
        return uint128(cap.amount);
    }

    /// @notice A budget's per-op cap as the spend-limit hook takes it (0: no cap), checked to read as enforced.
    function perCallCap(GrantBudget memory budget) internal pure returns (uint256) {
        GrantAmount memory cap = budget.perCallCap;
        if (cap.token != budget.limit.token || cap.amount == 0) revert GrantAmountInvalid(cap.token, cap.amount);
        return cap.amount == _UNLIMITED ? 0 : cap.amount;
    }

    /// @notice The seconds a budget period text stands for: 0 for "lifetime", else n × the unit.
    function periodSeconds(string memory period) internal pure returns (uint48) {
        bytes memory text = bytes(period);
        if (keccak256(text) == keccak256("lifetime")) return 0;
        uint256 i = 0;
        uint256 n = 0;
        // A count of 1 to 12 digits, no leading zero.
        while (i < text.length && text[i] >= "0" && text[i] <= "9") {
            if ((i == 0 && text[i] == "0") || i == 12) revert GrantPeriodInvalid(period);
            n = n * 10 + uint8(text[i]) - 48;
            ++i;
        }
        if (i == 0 || i >= text.length || text[i] != " ") revert GrantPeriodInvalid(period);
        bytes memory unit = new bytes(text.length - i - 1);
        for (uint256 j = 0; j < unit.length; ++j) unit[j] = text[i + 1 + j];
        // Singular for one, plural otherwise.
        bytes32 unitHash = keccak256(unit);
        uint256 seconds_;
        if (unitHash == (n == 1 ? keccak256("second") : keccak256("seconds"))) seconds_ = 1;
        else if (unitHash == (n == 1 ? keccak256("minute") : keccak256("minutes"))) seconds_ = 60;
        else if (unitHash == (n == 1 ? keccak256("hour") : keccak256("hours"))) seconds_ = 3600;
        else if (unitHash == (n == 1 ? keccak256("day") : keccak256("days"))) seconds_ = 86400;
        else if (unitHash == (n == 1 ? keccak256("week") : keccak256("weeks"))) seconds_ = 604800;
        else revert GrantPeriodInvalid(period);
        seconds_ *= n;
        if (seconds_ > type(uint48).max) revert GrantPeriodInvalid(period);
        return uint48(seconds_);
    }

    function _ruleWord(
        FlatRule memory rule,
        address[] memory targets,
        bytes4[] memory selectors
    ) private pure returns (uint256) {
        bytes4 selector = selectorOf(rule.signature);
        uint256 index = 0;
        while (index < targets.length && (targets[index] != rule.target || selectors[index] != selector)) ++index;
        bytes32 condition = keccak256(bytes(rule.condition));
        uint256 op;
        if (condition == _EQUALS) op = 1;
        else if (condition == _AT_MOST) op = 2;
        else if (condition == _AT_LEAST) op = 3;
        if (
            index == targets.length ||
            op == 0 ||
            rule.argument == 0 ||
            rule.value >= _RULE_VALUE_LIMIT ||
            !_ruleFitsParameter(bytes(rule.signature), rule.argument, rule.value, rule.isAddress)
        ) {
            revert GrantRuleInvalid(rule.argument, rule.condition, bytes32(rule.value));
        }
        return (index << 248) | (uint256(rule.argument - 1) << 240) | (op << 232) | rule.value;
    }

    /// @dev Whether argument number `argument` (from 1) of the function `signature` is the parameter the rule reads:
    /// the signature has that many parameters, each before it takes exactly one word of the ABI head (no tuple, no
    /// fixed-size array: those take several or none), and the ruled one is of the rule's kind (`isAddress`) and its
    /// range holds `value`.
    function _ruleFitsParameter(
        bytes memory signature,
        uint8 argument,
        uint256 value,
        bool isAddress
    ) private pure returns (bool) {
        uint256 i = 0;
        while (signature[i] != "(") ++i;
        uint256 start = ++i;
        uint256 depth = 0;
        uint256 index = 0;
        for (; i < signature.length; ++i) {
            bytes1 c = signature[i];
            if (c == "(") ++depth;
            else if (c == ")" && depth > 0) --depth;
            else if ((c == "," || c == ")") && depth == 0) {
                ++index;
                if (i == start) return false; // "f()": no parameter
                if (index == argument) return _holds(signature, start, i, value, isAddress);
                // A parameter before the ruled one must take one head word.
                if (signature[start] == "(" || _hasFixedArray(signature, start, i)) return false;
                start = i + 1;
                if (c == ")") return false; // fewer parameters than the rule's argument
            }
        }
        return false;
    }

    /// @dev Whether the type `signature[from:to]` is `address` for an address rule, `bool` or `uintN` for a number
    /// rule, and holds `value`.
    function _holds(
        bytes memory signature,
        uint256 from,
        uint256 to,
        uint256 value,
        bool isAddress
    ) private pure returns (bool) {
        bytes memory kind = new bytes(to - from);
        for (uint256 k = 0; k < kind.length; ++k) kind[k] = signature[from + k];
        bytes32 hash = keccak256(kind);
        // An address rule's value is an address: it fits.
        if (hash == keccak256("address")) return isAddress;
        if (isAddress) return false;
        if (hash == keccak256("bool")) return value <= 1;
        if (kind.length < 5 || keccak256(abi.encodePacked(kind[0], kind[1], kind[2], kind[3])) != keccak256("uint")) {
            return false;
        }
        uint256 bits = 0;
        for (uint256 k = 4; k < kind.length; ++k) {
            if (kind[k] < "0" || kind[k] > "9") return false;
            bits = bits * 10 + uint8(kind[k]) - 48;
        }
        if (bits == 0 || bits > 256 || bits % 8 != 0) return false;
        return bits == 256 || value >> bits == 0;
    }

    /// @dev Sorts `words` ascending in place (insertion sort: a grant has few rules).
    function _sort(uint256[] memory words) private pure {
        for (uint256 i = 1; i < words.length; ++i) {
            uint256 word = words[i];
            uint256 j = i;
            while (j > 0 && words[j - 1] > word) {
                words[j] = words[j - 1];
                --j;
            }
            words[j] = word;
        }
    }

    /// @dev Whether the type `signature[from:to]` has a fixed-size array dimension (`T[2]`).
    function _hasFixedArray(bytes memory signature, uint256 from, uint256 to) private pure returns (bool) {
        for (uint256 k = from; k + 1 < to; ++k) {
            if (signature[k] == "[" && signature[k + 1] != "]") return true;
        }
        return false;
    }

    /// @dev `name(types)`: a name of letters, digits, `_` or `$` not starting with a digit, then a parenthesised list
    /// of lowercase type characters, digits, `,`, `[`, `]` and nested parentheses (tuples), nothing after.
    function _isSignature(bytes memory text) private pure returns (bool) {
        uint256 i = 0;
        for (; i < text.length; ++i) {
            bytes1 c = text[i];
            bool letter = (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" || c == "$";
            if (!(letter || (i != 0 && c >= "0" && c <= "9"))) break;
        }
        if (i == 0 || i >= text.length || text[i] != "(") return false;
        uint256 depth = 0;
        for (; i < text.length; ++i) {
            bytes1 c = text[i];
            if (c == "(") {
                ++depth;
            } else if (c == ")") {
                // depth >= 1 here: the list opened at the first "(" and returns as soon as it closes.
                --depth;
                // The outer list closes only at the end.
                if (depth == 0) return i == text.length - 1;
            } else if (!((c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "," || c == "[" || c == "]")) {
                return false;
            }
        }
        return false;
    }

    function _hashBudgets(GrantBudget[] memory budgets) private pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](budgets.length);
        for (uint256 i = 0; i < budgets.length; ++i) {
            GrantBudget memory budget = budgets[i];
            hashes[i] = keccak256(
                abi.encode(
                    GRANT_BUDGET_TYPEHASH,
                    _hashAmount(budget.limit),
                    keccak256(bytes(budget.period)),
                    _hashAmount(budget.perCallCap)
                )
            );
        }
        return keccak256(abi.encodePacked(hashes));
    }

    function _hashAmount(GrantAmount memory amount) private pure returns (bytes32) {
        return keccak256(abi.encode(GRANT_AMOUNT_TYPEHASH, amount.token, amount.amount));
    }

    function _hashScope(GrantScope[] memory entries) private pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](entries.length);
        for (uint256 e = 0; e < entries.length; ++e) {
            hashes[e] = keccak256(
                abi.encode(GRANT_SCOPE_TYPEHASH, entries[e].target, keccak256(bytes(entries[e].signature)))
            );
        }
        return keccak256(abi.encodePacked(hashes));
    }

    function _hashAddressRules(GrantAddressRule[] memory rules) private pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](rules.length);
        for (uint256 r = 0; r < rules.length; ++r) {
            GrantAddressRule memory rule = rules[r];
            hashes[r] = keccak256(
                abi.encode(
                    GRANT_ADDRESS_RULE_TYPEHASH,
                    rule.target,
                    keccak256(bytes(rule.signature)),
                    rule.argument,
                    keccak256(bytes(rule.condition)),
                    rule.value
                )
            );
        }
        return keccak256(abi.encodePacked(hashes));
    }

    function _hashNumberRules(GrantNumberRule[] memory rules) private pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](rules.length);
        for (uint256 r = 0; r < rules.length; ++r) {
            GrantNumberRule memory rule = rules[r];
            hashes[r] = keccak256(
                abi.encode(
                    GRANT_NUMBER_RULE_TYPEHASH,
                    rule.target,
                    keccak256(bytes(rule.signature)),
                    rule.argument,
                    keccak256(bytes(rule.condition)),
                    rule.value
                )
            );
        }
        return keccak256(abi.encodePacked(hashes));
    }
}
