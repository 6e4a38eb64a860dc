// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ValueMovingSelectors
/// @notice The standard functions that move or approve value (tokens, NFTs, multi-tokens, permits, delegations,
/// operators, batches that could reach them), by the keccak-256 of their signature. One list for the session module,
/// which keeps them out of a wildcard, and for the grant reader, which accepts a function text for one of their
/// selectors only if it is that standard signature (a made-up name hashing to `approve`'s selector is refused).
library ValueMovingSelectors {
    /// @notice The keccak-256 of the standard signature whose selector is `selector`, if that function moves or
    /// approves value; zero otherwise.
    function standardSignatureHash(bytes4 selector) internal pure returns (bytes32) {
        bytes32[46] memory standard = [
            keccak256("transfer(address,uint256)"),
            keccak256("approve(address,uint256)"),
            keccak256("transferFrom(address,address,uint256)"),
            keccak256("increaseAllowance(address,uint256)"),
            keccak256("transferAndCall(address,uint256,bytes)"),
            keccak256("transferAndCall(address,uint256)"),
            keccak256("transferFromAndCall(address,address,uint256,bytes)"),
            keccak256("transferFromAndCall(address,address,uint256)"),
            keccak256("approveAndCall(address,uint256,bytes)"),
            keccak256("approveAndCall(address,uint256)"),
            keccak256("send(address,uint256,bytes)"),
            keccak256("operatorSend(address,address,uint256,bytes,bytes)"),
            keccak256("authorizeOperator(address)"),
            keccak256("burn(uint256,bytes)"),
            keccak256("safeTransferFrom(address,address,uint256)"),
            keccak256("safeTransferFrom(address,address,uint256,bytes)"),
            keccak256("safeTransferFrom(address,address,uint256,uint256,bytes)"),
            keccak256("safeBatchTransferFrom(address,address,uint256[],uint256[],bytes)"),
            keccak256("setApprovalForAll(address,bool)"),
            keccak256("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)"),
            keccak256("approve(address,address,uint160,uint48)"),
            keccak256("transferFrom(address,address,uint160,address)"),
            keccak256("transferFrom((address,address,uint160,address)[])"),
            keccak256("permit(address,((address,uint160,uint48,uint48),address,uint256),bytes)"),
            keccak256("permit(address,((address,uint160,uint48,uint48)[],address,uint256),bytes)"),
            // Older and non-standard tokens: OpenZeppelin 2 `increaseApproval`, ERC-223, DAI's `push` / `pull` /
            // `move` and its own `permit`.
            keccak256("increaseApproval(address,uint256)"),
            keccak256("transfer(address,uint256,bytes)"),
            keccak256("push(address,uint256)"),
            keccak256("pull(address,uint256)"),
            keccak256("move(address,address,uint256)"),
            keccak256("permit(address,address,uint256,uint256,bool,uint8,bytes32,bytes32)"),
            // ERC-6909 multi-tokens.
            keccak256("transfer(address,uint256,uint256)"),
            keccak256("transferFrom(address,address,uint256,uint256)"),
            keccak256("approve(address,uint256,uint256)"),
            keccak256("setOperator(address,bool)"),
            // Credit and position delegations: Aave's `approveDelegation`, Compound III's `allow`, Morpho's
            // `setAuthorization`.
            keccak256("approveDelegation(address,uint256)"),
            keccak256("allow(address,bool)"),
            keccak256("setAuthorization(address,bool)"),
            // Operators and relayers acting for the account: Balancer, Maker, the Ethereum Vault Connector.
            keccak256("setRelayerApproval(address,address,bool)"),
            keccak256("hope(address)"),
            keccak256("setAccountOperator(address,address,bool)"),
            keccak256("setOperator(bytes19,address,uint256)"),
            // Batches into the contract's own functions, which would reach all of the above.
            keccak256("multicall(bytes[])"),
            keccak256("multicall(uint256,bytes[])"),
            keccak256("multicall(bytes32,bytes[])"),
            keccak256("batch(bytes[],bool)")
        ];
        for (uint256 i = 0; i < standard.length; ++i) {
            if (bytes4(standard[i]) == selector) return standard[i];
        }
        return bytes32(0);
    }
}
