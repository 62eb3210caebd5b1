"""Faults injected on purpose, for tests of crash safety; refused in production."""
from workers.masking import MaskingAMQP


class DuplicatingAMQP(MaskingAMQP):
    """Publishes every task message twice, as a broker redelivering everything would."""

    def _create_task_sender(self):
        send = super()._create_task_sender()

        def send_twice(producer, name, message, **kwargs):
            send(producer, name, message, **kwargs)
            return send(producer, name, message, **kwargs)

        return send_twice
