import type { OutgoingPayment, SandboxContext } from './context.js'

/**
 * Outgoing payments are created in FUNDING, like Rafiki's: creation is not payment. In `auto` mode
 * the buyer's wallet provider funds it after `fundingDelayMs` if the balance allows and fails it
 * otherwise; `manual` waits for fundOutgoingPayment; `fail` cancels every one.
 */
export function scheduleFunding(ctx: SandboxContext, payment: OutgoingPayment): void {
  const mode = ctx.state.fundingMode
  if (mode === 'manual') return
  const timer = setTimeout(() => {
    ctx.state.timers.delete(timer)
    if (mode === 'fail') failOutgoingPayment(ctx, payment, 'funding mode is fail')
    else settleOutgoingPayment(ctx, payment)
  }, ctx.config.fundingDelayMs)
  ctx.state.timers.add(timer)
}

/**
 * Moves the money: debits the sender, credits the incoming payment (completing it when full).
 * A `receiveAmount` below the quoted one is a partial payment: sent in proportion, then failed.
 */
export function settleOutgoingPayment(ctx: SandboxContext, payment: OutgoingPayment, receiveAmount?: bigint): void {
  if (payment.state !== 'FUNDING') return
  const { state, urls, config } = ctx
  const sender = state.wallets.get(urls.walletNameOf(payment.wallet) ?? '')
  const incoming = state.incomingPayments.get(payment.receiver)
  const receiverWallet = incoming ? state.wallets.get(urls.walletNameOf(incoming.wallet) ?? '') : undefined
  const quotedReceive = BigInt(payment.receiveAmount.value)
  const debit = BigInt(payment.debitAmount.value)
  const received = receiveAmount === undefined || receiveAmount > quotedReceive ? quotedReceive : receiveAmount
  const sent = received === quotedReceive ? debit : (debit * received) / quotedReceive

  if (!sender || !incoming || !receiverWallet) return failOutgoingPayment(ctx, payment, 'receiver or sender is gone')
  if (incoming.completed || (incoming.expiresAt && incoming.expiresAt <= config.now())) {
    return failOutgoingPayment(ctx, payment, 'incoming payment is no longer payable')
  }
  if (sender.balance < sent) return failOutgoingPayment(ctx, payment, 'insufficient balance')

  sender.balance -= sent
  receiverWallet.balance += received
  incoming.received += received
  if (incoming.incomingAmount && incoming.received >= BigInt(incoming.incomingAmount.value)) incoming.completed = true
  payment.sent = sent
  if (received < quotedReceive) {
    failOutgoingPayment(ctx, payment, 'partial payment')
  } else {
    payment.state = 'COMPLETED'
    config.logger.debug({ outgoingPayment: payment.id }, 'sandbox outgoing payment completed')
  }
}

export function failOutgoingPayment(ctx: SandboxContext, payment: OutgoingPayment, reason: string): void {
  payment.failed = true
  payment.state = 'FAILED'
  // What was never sent goes back to the grant, so the buyer can retry within the same limit.
  const grant = ctx.state.grants.get(payment.grantId)
  if (grant) {
    const debit = BigInt(payment.debitAmount.value)
    const receive = BigInt(payment.receiveAmount.value)
    grant.spentDebit -= debit - payment.sent
    grant.spentReceive -= receive - (payment.sent === debit ? receive : (receive * payment.sent) / debit)
  }
  ctx.config.logger.debug({ outgoingPayment: payment.id, reason }, 'sandbox outgoing payment failed')
}
