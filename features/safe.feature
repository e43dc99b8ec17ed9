Feature: "I am safe"
  A triple press stops the siren and recording, cancels a fall countdown, and sends
  "I am safe" to the contacts alerted in the last 30 minutes (none alerted: no SMS).

  Background:
    Given a button paired with a phone
    And the phone has 3 emergency contacts
    And the phone is at 48.8566, 2.3522

  Scenario: After an alert, the alerted contacts hear that the wearer is safe
    When the wearer presses the button
    And 5 minutes pass
    And the wearer triple-presses the button
    Then within 5 s 3 contacts receive an SMS containing "I am safe"
    And exactly 6 SMS are sent

  Scenario: More than 30 minutes after the alert, nobody is told
    When the wearer presses the button
    And 31 minutes pass
    And the wearer triple-presses the button
    And 1 minutes pass
    Then 0 contacts receive an SMS containing "I am safe"
    And exactly 3 SMS are sent

  Scenario: Nobody alerted: no SMS
    When the wearer triple-presses the button
    And 1 minutes pass
    Then no SMS is sent

  Scenario: "I am safe" stops the siren
    When the wearer holds the button for 2 s
    Then within 1 s the siren is on
    When the wearer triple-presses the button
    Then within 2 s the siren is off
    And no SMS is sent
